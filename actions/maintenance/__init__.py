"""Maintenance windows: when a repository is quiet enough for dependency updates and clean-ups."""
