"""``TaskEnvironment``: tasks that share an image, resources and other settings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from flyte.models import Resources, as_cache
from flyte.runtime._interface import NativeInterface
from flyte.runtime._plugins import TaskPluginRegistry
from flyte.runtime._task import AsyncFunctionTaskTemplate, normalize_task_settings

F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$", re.IGNORECASE)


@dataclass
class TaskEnvironment:
    """A named group of tasks sharing configuration.

    Args:
        name: snake_case or kebab-case; task names are ``<name>.<function>``.
        image: the container image (``"auto"`` picks the default for this SDK version).
        resources, env_vars, secrets, cache, reusable, plugin_config, pod_template, interruptible,
        queue, service_account: defaults for every task of the environment.
        depends_on: environments whose images and tasks this one needs deployed too.
        description: shown in the UI.

    Example:
        >>> env = TaskEnvironment("hello")
        >>> @env.task
        ... async def greet(name: str) -> str:
        ...     return f"hello {name}"
        >>> sorted(env.tasks)
        ['hello.greet']
    """

    name: str
    depends_on: list[TaskEnvironment] = field(default_factory=list)
    pod_template: Any = None
    description: str | None = None
    secrets: Any = None
    env_vars: dict[str, str] | None = None
    resources: Resources | None = None
    interruptible: bool = False
    image: Any = "auto"
    include: tuple[str, ...] = ()
    service_account: str | None = None
    cache: Any = "disable"
    reusable: Any = None
    plugin_config: Any = None
    queue: str | None = None
    _tasks: dict[str, AsyncFunctionTaskTemplate[Any, Any]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                f"TaskEnvironment name {self.name!r} must be snake_case or kebab-case "
                "(letters, digits, '_' and '-', starting and ending with a letter or digit)"
            )
        if self.resources is not None and not isinstance(self.resources, Resources):
            raise TypeError(
                f"TaskEnvironment {self.name!r}: resources must be a flyte.Resources, got {self.resources!r}"
            )
        self.cache = as_cache(self.cache)

    @property
    def tasks(self) -> dict[str, AsyncFunctionTaskTemplate[Any, Any]]:
        """The environment's tasks by full name."""
        return dict(self._tasks)

    def add_dependency(self, *envs: TaskEnvironment) -> None:
        """Declare environments this one needs (their tasks are deployed along with it)."""
        for env in envs:
            if env is self:
                raise ValueError(f"TaskEnvironment {self.name!r} cannot depend on itself")
            if env not in self.depends_on:
                self.depends_on.append(env)

    def clone_with(self, name: str, **changes: Any) -> TaskEnvironment:
        """A new environment with this one's settings, some changed, and no tasks."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self) if not f.name.startswith("_")}
        if unknown:
            raise TypeError(f"clone_with: unknown setting(s) {', '.join(sorted(unknown))}")
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, name=name, _tasks={}, **changes)

    @overload
    def task(self, _func: F) -> AsyncFunctionTaskTemplate[Any, Any]: ...

    @overload
    def task(self, _func: None = None, **settings: Any) -> Callable[[F], AsyncFunctionTaskTemplate[Any, Any]]: ...

    def task(self, _func: F | None = None, **settings: Any) -> Any:
        """Make a function a task of this environment; usable bare or with settings.

        Settings: ``short_name``, ``cache``, ``retries``, ``timeout``, ``docs``, ``report``,
        ``max_inline_io_bytes``, ``pod_template``, ``interruptible``, ``queue``,
        ``service_account``, ``triggers``, ``links`` (plus ``task_resolver``, ``entrypoint`` and
        ``produces_artifacts``, accepted for compatibility).
        """
        for accepted_only in ("task_resolver", "entrypoint", "produces_artifacts"):
            settings.pop(accepted_only, None)

        def decorate(func: F) -> AsyncFunctionTaskTemplate[Any, Any]:
            if not callable(func):
                raise TypeError(f"@{self.name}.task must decorate a function, got {func!r}")
            name = f"{self.name}.{func.__name__}"
            defaults: dict[str, Any] = {
                "cache": self.cache,
                "resources": self.resources,
                "env_vars": self.env_vars or {},
                "secrets": self.secrets,
                "reusable": self.reusable,
                "image": self.image,
                "pod_template": self.pod_template,
                "interruptible": self.interruptible,
                "queue": self.queue,
                "service_account": self.service_account,
                "plugin_config": self.plugin_config,
            }
            chosen = normalize_task_settings({**defaults, **settings}, where=f"@{self.name}.task")
            # The task's own plugin_config (or the environment's) picks the task class.
            cls: type[AsyncFunctionTaskTemplate[Any, Any]] = AsyncFunctionTaskTemplate
            if chosen["plugin_config"] is not None:
                cls = TaskPluginRegistry.find(chosen["plugin_config"]) or AsyncFunctionTaskTemplate
            template = cls(
                name=name, interface=NativeInterface.from_function(func), func=func, parent_env=self, **chosen
            )
            self._tasks[name] = template
            return template

        return decorate(_func) if _func is not None else decorate
