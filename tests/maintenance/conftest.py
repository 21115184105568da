"""The action fixtures (sample organisation behind the double, a workflow step's environment) for these tests."""

from tests.actions.conftest import action_env, sample_double

__all__ = ["action_env", "sample_double"]
