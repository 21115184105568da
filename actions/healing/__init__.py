"""Self-healing CI: run logs, failure excerpts, and the failure classifier."""
