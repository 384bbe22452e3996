"""Validation of the identifiers clients send: one rule per kind of name, checked before any write.

Names become folder names under the data dir, so the rules also keep them from meaning anything
to a filesystem (no separators, no ``..``, no control characters).
"""

from __future__ import annotations

import re

from flyte.server._rpc_errors import invalid_argument

# Projects, domains and orgs: DNS-label-like, as Flyte's admin accepts them.
_SCOPE_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
# Runs and actions: the SDK's generated names and user-given ones (lowercase letters, digits, '-').
_RUN_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,62})$")
# Task names are dotted Python paths (``env.task``); versions are hashes or user strings.
_TASK_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+=-]{0,127}$")


def _check(regex: re.Pattern[str], value: str, what: str, rule: str) -> str:
    if not regex.match(value) or ".." in value:
        raise invalid_argument(f"{what} {value!r} is not valid: expected {rule}")
    return value


def check_org(value: str) -> str:
    """An org may be empty (the single-tenant default)."""
    return value and _check(_SCOPE_RE, value, "org", "letters, digits, '-' or '_' (at most 63)")


def check_project(value: str) -> str:
    return _check(_SCOPE_RE, value, "project", "a non-empty name of letters, digits, '-' or '_' (at most 63)")


def check_domain(value: str) -> str:
    return _check(_SCOPE_RE, value, "domain", "a non-empty name of letters, digits, '-' or '_' (at most 63)")


def check_run_name(value: str) -> str:
    return _check(_RUN_RE, value, "run name", "1-63 letters, digits, '-' or '_', starting with a letter or digit")


def check_action_name(value: str) -> str:
    return _check(_RUN_RE, value, "action name", "1-63 letters, digits, '-' or '_', starting with a letter or digit")


def check_task_name(value: str) -> str:
    return _check(_TASK_RE, value, "task name", "a dotted name of letters, digits, '_', '.' or '-'")


def check_version(value: str) -> str:
    return _check(_VERSION_RE, value, "task version", "a non-empty string of letters, digits, '_', '.', '-', '+', '='")


def check_path_segment(value: str, what: str) -> str:
    """One segment of an uploaded file's path: no separators, no dot names, no control characters."""
    if (
        not value
        or value in (".", "..")
        or "/" in value
        or "\\" in value
        or any(ord(c) < 32 for c in value)
        or len(value) > 255
    ):
        raise invalid_argument(f"{what} {value!r} is not a valid file name segment")
    return value
