"""Reading an action's configuration file (``.github/<name>.yml``) into its pydantic model.

The file is read from a checkout when there is one, or from the repository through the API (its
contents at the default branch) when a workflow runs without a checkout. An absent file gives the
model's defaults. A malformed one raises :class:`InputError` naming the file, the key path and the
problem, never the offending value: a misplaced token pasted into a config file must not end up in
a log.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from github import GithubException
from github.Repository import Repository
from pydantic import BaseModel, ValidationError

from actions.common.errors import InputError
from actions.common.github import github_failure
from actions.common.report import redact

Model = TypeVar("Model", bound=BaseModel)

CONFIG_DIR = ".github"
MAX_CONFIG_BYTES = 256 * 1024


def _repeated_key(node: Any) -> Any:
    """The first key node given twice in one mapping of the composed YAML ``node``, or None.

    YAML forbids repeated keys but PyYAML keeps the last one silently: a setting would not be what
    its reader saw in the file.
    """
    if isinstance(node, yaml.MappingNode):
        seen: set[tuple[str, str]] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if (key.tag, key.value) in seen:
                    return key
                seen.add((key.tag, key.value))
            found = _repeated_key(value)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _repeated_key(item)
            if found is not None:
                return found
    return None


def _where(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts) or "(top level)"


def parse_config(text: str | None, filename: str, model: type[Model]) -> Model:
    """Validate the YAML ``text`` of ``filename`` against ``model`` (None or empty: the defaults).

    Raises:
        InputError: ``filename: key.path: problem`` for every problem found (values are never quoted).
    """
    if text is None or not text.strip():
        return model()
    if len(text.encode("utf-8")) > MAX_CONFIG_BYTES:
        raise InputError(f"{filename}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        repeated = _repeated_key(yaml.compose(text, Loader=yaml.SafeLoader))
        document: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        # the error's own text quotes the offending line, which could hold a secret
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown place"
        raise InputError(f"{filename}: not valid YAML at {where}: {error.problem}") from None
    except yaml.YAMLError:
        raise InputError(f"{filename}: not valid YAML") from None
    if repeated is not None:
        mark = repeated.start_mark
        raise InputError(
            redact(
                f"{filename}: the key {str(repeated.value)[:40]!r} is given twice "
                f"(line {mark.line + 1}, column {mark.column + 1}); YAML allows each key once"
            )
        )
    if document is None:
        return model()
    if not isinstance(document, dict):
        raise InputError(f"{filename}: the top level must be a mapping of keys to values")
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems = [f"{_where(tuple(e['loc']))}: {e['msg']}" for e in error.errors(include_input=False)]
        raise InputError(redact(f"{filename}: " + "; ".join(problems[:8]))) from None


def load_config(source: str | Path, filename: str, model: type[Model]) -> Model:
    """The configuration ``filename`` for ``model``, from a checkout or an explicit file.

    Args:
        source: the repository root (the file is ``.github/<filename>`` below it), or the file itself.
        filename: e.g. ``auto-merge.yml``; used in error messages.
        model: the pydantic model of the file.

    Raises:
        InputError: when the file cannot be read or is not a valid configuration.
    """
    path = Path(source)
    if path.is_dir():
        path = path / CONFIG_DIR / filename
    if not path.exists():
        return model()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InputError(f"{filename}: cannot be read as UTF-8 text") from None
    return parse_config(text, filename, model)


def load_repo_config(repo: Repository, filename: str, model: type[Model], ref: str | None = None) -> Model:
    """The configuration ``filename`` for ``model`` read through the API, at ``ref`` (the default branch).

    Raises:
        InputError: when the file is not a valid configuration.
        ActionError: when GitHub cannot be asked (other than the file being absent).
    """
    path = f"{CONFIG_DIR}/{filename}"
    try:
        contents = repo.get_contents(path, ref=ref) if ref else repo.get_contents(path)
    except GithubException as error:
        if error.status == 404:
            return model()
        raise github_failure(error, f"reading {path}") from None
    if isinstance(contents, list):
        raise InputError(f"{path} is a directory, not a file")
    try:
        text = base64.b64decode(contents.raw_data.get("content") or "").decode("utf-8")
    except (binascii.Error, ValueError):
        raise InputError(f"{filename}: cannot be read as UTF-8 text") from None
    return parse_config(text, filename, model)


def read_action_config(explicit: Path | None, repo: Repository, filename: str, model: type[Model]) -> Model:
    """An action's settings: an explicit file, the checkout's ``.github/<filename>``, or the API's.

    The last is the default branch's file read through the API; defaults when there is none.

    Raises:
        ActionError: naming the file, the key and the problem of a malformed configuration.
    """
    if explicit is not None:
        return load_config(explicit, filename, model)
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and (Path(workspace) / ".github" / filename).is_file():
        return load_config(Path(workspace), filename, model)
    return load_repo_config(repo, filename, model)
