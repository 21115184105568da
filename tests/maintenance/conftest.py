"""Fixtures of the action tests (the double on the sample organisation, a step's environment), shared here."""

from tests.actions.conftest import action_env, sample_double

__all__ = ["action_env", "sample_double"]
