"""Routing: choose reviewers for pull requests and assignees for issues."""
