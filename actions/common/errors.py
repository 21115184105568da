"""Errors an action reports to its user: a clear message, never a stack trace or a secret."""

from __future__ import annotations

_EXPORTS_EXIT = (
    "3 exports missing, of an unknown schema version, tampered with, of an unknowable age, or stale where "
    "the action acts on them (auto-merge; fail closed); "
)


def exit_codes(*, exports: bool = True) -> str:
    """What an action's ``--help`` says about its exit status; exit 3 only for actions that read exports."""
    return (
        "exit codes: 0 decided (whatever the decision; see the result JSON); 2 bad input, configuration, "
        "token, output file, a GitHub refusal or a failed notification (one ::error:: line says which); "
        f"{_EXPORTS_EXIT if exports else ''}1 an internal error (set RUNNER_DEBUG=1 for its message)"
    )


EXIT_CODES = exit_codes()
"""The exit status an action that reads exports gives (:func:`~actions.common.report.run_cli`)."""


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
