"""Errors an action reports to its user: a clear message, never a stack trace or a secret."""

from __future__ import annotations

EXIT_CODES = (
    "exit codes: 0 decided (whatever the decision; see the result JSON); 2 bad input, configuration, "
    "token, output file, a GitHub refusal or a failed notification (one ::error:: line says which); "
    "3 exports missing, of an unknown schema version, tampered with, of an unknowable age, or stale where "
    "the action acts on them (auto-merge; fail closed); 1 an internal error (set RUNNER_DEBUG=1 for its "
    "message)"
)
"""What every action's ``--help`` says about its exit status (:func:`~actions.common.report.run_cli`)."""


class ActionError(Exception):
    """A failure the user can act on; its message is shown as it is (after redaction).

    Attributes:
        exit_code: the process exit code the CLI returns for it.
    """

    exit_code = 2


class InputError(ActionError):
    """A malformed input: a repository name, a number, an event payload or a configuration."""


class ExportError(ActionError):
    """The exports are missing, corrupted, of a schema version this action does not understand, or stale.

    Actions fail closed on it: no decision is made from exports that cannot be trusted.
    """

    exit_code = 3
