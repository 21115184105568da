"""Errors an action reports to its user: a clear message, never a stack trace or a secret."""

from __future__ import annotations


class ActionError(Exception):
    """A failure the user can act on; its message is shown as it is (after redaction).

    Attributes:
        exit_code: the process exit code the CLI returns for it.
    """

    exit_code = 2


class InputError(ActionError):
    """A malformed input: a repository name, a number, an event payload or a configuration."""


class ExportError(ActionError):
    """The exports are missing, corrupted or of a schema version this action does not understand.

    Actions fail closed on it: no decision is made from exports that cannot be trusted.
    """

    exit_code = 3
