"""Failure and duration predictions of a workflow run, from the exported models."""
