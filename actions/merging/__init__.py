"""Auto-merge and revert automation: configuration, the eligibility engine, and reading a pull request."""
