"""Client objects for a Flyte 2 backend: runs, actions, tasks, projects and secrets.

``import flyte.remote`` is cheap: grpc and the generated service stubs load only when a
:class:`ClientSet` is created and used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte.remote._version import __version__

if TYPE_CHECKING:
    from flyte.models import ActionOutputs
    from flyte.remote._action import Action, ActionDetails, Attempt
    from flyte.remote._client import ClientSet, Endpoint
    from flyte.remote._data import upload_dir, upload_file
    from flyte.remote._errors import (
        ActionNotFoundError,
        AlreadyExistsError,
        LogsNotAvailableError,
        NotFoundError,
        ProjectNotFoundError,
        RunNotFoundError,
        SecretNotFoundError,
    )
    from flyte.remote._project import Project
    from flyte.remote._run import Run
    from flyte.remote._secret import Secret
    from flyte.remote._session import Session, configure, current_session
    from flyte.remote._task import Task, TaskDetails

_LAZY = {
    "Action": "flyte.remote._action",
    "ActionDetails": "flyte.remote._action",
    "ActionNotFoundError": "flyte.remote._errors",
    "ActionOutputs": "flyte.models",
    "AlreadyExistsError": "flyte.remote._errors",
    "Attempt": "flyte.remote._action",
    "ClientSet": "flyte.remote._client",
    "Endpoint": "flyte.remote._client",
    "LogsNotAvailableError": "flyte.remote._errors",
    "NotFoundError": "flyte.remote._errors",
    "Project": "flyte.remote._project",
    "ProjectNotFoundError": "flyte.remote._errors",
    "Run": "flyte.remote._run",
    "RunNotFoundError": "flyte.remote._errors",
    "Secret": "flyte.remote._secret",
    "SecretNotFoundError": "flyte.remote._errors",
    "Session": "flyte.remote._session",
    "Task": "flyte.remote._task",
    "TaskDetails": "flyte.remote._task",
    "configure": "flyte.remote._session",
    "current_session": "flyte.remote._session",
    "upload_dir": "flyte.remote._data",
    "upload_file": "flyte.remote._data",
}

__all__ = [
    "Action",
    "ActionDetails",
    "ActionNotFoundError",
    "ActionOutputs",
    "AlreadyExistsError",
    "Attempt",
    "ClientSet",
    "Endpoint",
    "LogsNotAvailableError",
    "NotFoundError",
    "Project",
    "ProjectNotFoundError",
    "Run",
    "RunNotFoundError",
    "Secret",
    "SecretNotFoundError",
    "Session",
    "Task",
    "TaskDetails",
    "__version__",
    "configure",
    "current_session",
    "upload_dir",
    "upload_file",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.remote' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
