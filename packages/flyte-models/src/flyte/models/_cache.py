"""Cache policy data: whether a task's outputs are reused, and what goes into the cache key.

Computing a cache version from a function body is the runtime's job (it has the function); this
module holds the settings and how they appear in a task template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from flyte.models._durations import to_timedelta

CacheBehavior = Literal["auto", "override", "disable"]
_BEHAVIORS: tuple[str, ...] = ("auto", "override", "disable")
# Spellings flyte 2.12.1 accepts for the three behaviours (`cache="on"` in a config file, ...).
_ALIASES: dict[str, CacheBehavior] = {
    "enable": "auto",
    "enabled": "auto",
    "on": "auto",
    "true": "auto",
    "yes": "auto",
    "false": "disable",
    "no": "disable",
    "none": "disable",
    "off": "disable",
}


@runtime_checkable
class CachePolicy(Protocol):
    """Computes a cache version. The runtime passes what it knows about the task as ``params``."""

    def get_version(self, salt: str, params: Any) -> str: ...


@dataclass(frozen=True)
class Cache:
    """Whether and how a task's results are cached.

    Args:
        behavior: ``"auto"`` (cache; version from the policies, by default a hash of the function
            body), ``"override"`` (cache with ``version_override``) or ``"disable"``.
        version_override: a fixed cache version instead of a computed one.
        serialize: run at most one instance per cache key at a time; others wait for its result.
        ignored_inputs: input names left out of the cache key (one name or a tuple).
        salt: mixed into computed versions, to invalidate every entry at once.
        policies: how to compute the version; None means the runtime's default (function body).
        max_age: entries older than this (seconds or a timedelta) are not reused.

    Example:
        >>> Cache("auto", ignored_inputs="verbose").ignored_inputs
        ('verbose',)
    """

    behavior: CacheBehavior
    version_override: str | None = None
    serialize: bool = False
    ignored_inputs: tuple[str, ...] | str = ()
    salt: str = ""
    policies: tuple[CachePolicy, ...] | list[CachePolicy] | CachePolicy | None = None
    max_age: timedelta | int | None = None

    def __post_init__(self) -> None:
        behavior = self.behavior
        if behavior not in _BEHAVIORS:
            if isinstance(behavior, str) and behavior in _ALIASES:
                object.__setattr__(self, "behavior", _ALIASES[behavior])
            else:
                raise ValueError(
                    f"Cache.behavior must be one of {', '.join(_BEHAVIORS)} "
                    f"(or an alias: {', '.join(sorted(_ALIASES))}); got {behavior!r}"
                )
        if self.version_override is not None and not isinstance(self.version_override, str):
            raise TypeError(f"Cache.version_override must be a string, got {self.version_override!r}")
        ignored = (self.ignored_inputs,) if isinstance(self.ignored_inputs, str) else tuple(self.ignored_inputs)
        if not all(isinstance(n, str) and n for n in ignored):
            raise TypeError(
                f"Cache.ignored_inputs must be input names (non-empty strings), got {self.ignored_inputs!r}"
            )
        object.__setattr__(self, "ignored_inputs", ignored)
        if not isinstance(self.salt, str):
            raise TypeError(f"Cache.salt must be a string, got {self.salt!r}")
        if self.policies is not None:
            policies = (self.policies,) if isinstance(self.policies, CachePolicy) else tuple(self.policies)
            for p in policies:
                if not isinstance(p, CachePolicy):
                    raise TypeError(f"Cache.policies must implement get_version(salt, params), got {p!r}")
            object.__setattr__(self, "policies", policies)
        if self.max_age is not None:
            object.__setattr__(self, "max_age", to_timedelta(self.max_age, "Cache.max_age"))

    def is_enabled(self) -> bool:
        """True unless the behaviour is ``"disable"``."""
        return self.behavior != "disable"

    def get_ignored_inputs(self) -> tuple[str, ...]:
        return self.ignored_inputs if isinstance(self.ignored_inputs, tuple) else (self.ignored_inputs,)


CacheRequest = CacheBehavior | Literal["enable", "enabled", "on", "true", "yes", "false", "no", "none", "off"] | Cache


def as_cache(cache: CacheRequest | bool | None) -> Cache:
    """Normalise a task's ``cache=`` argument: a behaviour name, True/False, or a Cache."""
    if cache is None or cache is False:
        return Cache("disable")
    if cache is True:
        return Cache("auto")
    if isinstance(cache, Cache):
        return cache
    if isinstance(cache, str):
        return Cache(cache)  # type: ignore[arg-type]  # validated by Cache
    raise TypeError(f"cache must be 'auto', 'override', 'disable', a bool or a flyte.Cache, got {cache!r}")
