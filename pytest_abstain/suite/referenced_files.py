"""Files a suite names (system_prompt_file): read only inside the suite root, and never when
they hold the value of a secret-looking environment variable the suite did not allow.

A suite is data, often from a pull request: it must not be able to send /proc/self/environ,
~/.netrc or the run's API key to the endpoint as a prompt.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

from ..untrusted import MIN_SECRET_CHARS
from .data import SuiteError
from .text_file import Unreadable, read_text

#: Environment variables whose names say they hold a secret: OPENAI_API_KEY (the run's key),
#: GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD, GOOGLE_APPLICATION_CREDENTIALS, ...
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def read_suite_file(
    source: str, key: str, given: str, base_dir: Path, root: Path, allowed: Collection[str]
) -> str:
    """The text of the file a suite names under `key`: relative to `base_dir`, inside `root`
    once symlinks and '..' are resolved, and holding no secret the suite did not allow."""
    path = suite_file_path(source, key, given, base_dir, root)
    try:
        text = read_text(path)
    except (OSError, Unreadable) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SuiteError(source, [f"{key}: cannot read {str(path)!r}: {reason}"]) from None
    found = _secrets_in(text, allowed)
    if found:
        raise SuiteError(source, [secret_problem(key, given, found)])
    return text


def suite_file_path(source: str, key: str, given: str, base_dir: Path, root: Path) -> Path:
    """The file a suite names under `key`, resolved: relative to `base_dir`, inside `root`
    once symlinks and '..' are resolved, and a regular file when it exists."""
    if Path(given).is_absolute():
        raise SuiteError(
            source,
            [f"{key}: {given!r} is an absolute path; give a path relative to the suite file, "
             f"inside the suite root {root}"],
        )  # fmt: skip
    try:
        path = (base_dir / given).resolve()
    # A symlink loop (a RuntimeError before Python 3.13) or a NUL byte in the path.
    except (OSError, RuntimeError, ValueError) as exc:
        raise SuiteError(source, [f"{key}: cannot read {given!r}: {exc}"]) from None
    if not path.is_relative_to(root.resolve()):
        raise SuiteError(
            source,
            [f"{key}: {given!r} leads outside the suite root {root} (to {path}); keep the "
             "files suites read inside it, or set abstain_root in the ini file"],
        )  # fmt: skip
    if path.exists() and not path.is_file():
        # A named pipe would block the open until someone writes to it.
        raise SuiteError(source, [f"{key}: cannot read {str(path)!r}: not a regular file"])
    return path


def secret_problem(key: str, given: str, names: Collection[str]) -> str:
    return (
        f"{key}: {given!r} contains the value of {', '.join(names)}, an environment variable "
        "that looks secret; the suite would send it to the endpoint. Remove it from the file, "
        "or list the variable in allow_secrets if it is meant to be sent"
    )


def secret_values(allowed: Collection[str]) -> dict[str, str]:
    """The values of the secret-looking environment variables, except `allowed`, by name."""
    found = {}
    for name, value in os.environ.items():
        # The run strips the API key before use: a CI secret often ends in a newline.
        secret = value.strip()
        if len(secret) >= MIN_SECRET_CHARS and name not in allowed and _SECRET_NAME.search(name):
            found[name] = secret
    return found


def _secrets_in(text: str, allowed: Collection[str]) -> list[str]:
    """The secret-looking environment variables, except `allowed`, whose values `text` holds."""
    return sorted(name for name, secret in secret_values(allowed).items() if secret in text)
