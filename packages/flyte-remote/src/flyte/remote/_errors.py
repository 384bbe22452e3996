"""What a remote call raises when the thing it names does not exist on the backend.

Tasks use :class:`flyte.errors.RemoteTaskNotFoundError`; runs, actions, projects and secrets get
the classes here. Each is a :class:`flyte.errors.RuntimeUserError` whose message names the thing.
"""

from __future__ import annotations

from flyte.errors import RuntimeUserError


class NotFoundError(RuntimeUserError):
    """The run, action, project or secret named does not exist on the backend."""

    code_name = "NotFound"

    def __init__(self, message: str):
        super().__init__(self.code_name, message)


class RunNotFoundError(NotFoundError):
    code_name = "RunNotFound"


class ActionNotFoundError(NotFoundError):
    code_name = "ActionNotFound"


class ProjectNotFoundError(NotFoundError):
    code_name = "ProjectNotFound"


class SecretNotFoundError(NotFoundError):
    code_name = "SecretNotFound"


class AlreadyExistsError(RuntimeUserError):
    """A project or secret of that name exists already."""

    def __init__(self, message: str):
        super().__init__("AlreadyExists", message)


class LogsNotAvailableError(RuntimeUserError):
    """The action has no logs (it never started an attempt)."""

    def __init__(self, message: str):
        super().__init__("LogsNotAvailable", message)
