"""The SDK's data: identifiers, task specs and policies, and their exact flyteidl2 conversions.

Everything here is an immutable value (frozen dataclasses) that every other distribution shares.
Importing this package is cheap: names load from their module on first use (PEP 562), and
protobuf modules on the first conversion.

Example:
    >>> from flyte.models import Resources, TaskID, TaskSpec
    >>> spec = TaskSpec(TaskID("env.hello", "v1"), image="ghcr.io/org/app:v1", resources=Resources(cpu=1), retries=2)
    >>> spec.retry_strategy.count
    2
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flyte.models._version import __version__

if TYPE_CHECKING:
    from flyte.models._cache import Cache, CacheBehavior, CachePolicy, CacheRequest, as_cache
    from flyte.models._context import CodeBundle, SerializationContext
    from flyte.models._docs import Documentation, Link
    from flyte.models._errors_proto import ErrorInfo, error_document_from_exception, exception_from_error_document
    from flyte.models._frozen import FrozenDict
    from flyte.models._ids import ActionID, RunID, TaskID, child_action_name
    from flyte.models._image import ImageRef
    from flyte.models._outputs import ActionOutputs
    from flyte.models._pod import PodTemplate
    from flyte.models._resources import (
        AMD_GPU,
        APPLE_SILICON,
        GPU,
        HABANA_GAUDI,
        TPU,
        Device,
        DeviceClass,
        Neuron,
        Resources,
    )
    from flyte.models._retry import Backoff, RetriesType, RetryStrategy, as_retry_strategy
    from flyte.models._reuse import ReusePolicy
    from flyte.models._secret import Secret, SecretRequest, secrets_tuple
    from flyte.models._task_spec import TaskSpec
    from flyte.models._timeout import Timeout, TimeoutType, as_timeout
    from flyte.models._trigger import Cron, FixedRate, Trigger, TriggerTime

# Public name -> the module that defines it. Runtime and CLI code often needs one or two of these;
# importing all twenty modules (and their dataclass set-up) for that is wasted start-up time.
_EXPORTS = {
    "Cache": "flyte.models._cache",
    "CacheBehavior": "flyte.models._cache",
    "CachePolicy": "flyte.models._cache",
    "CacheRequest": "flyte.models._cache",
    "as_cache": "flyte.models._cache",
    "CodeBundle": "flyte.models._context",
    "SerializationContext": "flyte.models._context",
    "Documentation": "flyte.models._docs",
    "Link": "flyte.models._docs",
    "ErrorInfo": "flyte.models._errors_proto",
    "error_document_from_exception": "flyte.models._errors_proto",
    "exception_from_error_document": "flyte.models._errors_proto",
    "FrozenDict": "flyte.models._frozen",
    "ActionID": "flyte.models._ids",
    "RunID": "flyte.models._ids",
    "TaskID": "flyte.models._ids",
    "child_action_name": "flyte.models._ids",
    "ImageRef": "flyte.models._image",
    "ActionOutputs": "flyte.models._outputs",
    "PodTemplate": "flyte.models._pod",
    "AMD_GPU": "flyte.models._resources",
    "APPLE_SILICON": "flyte.models._resources",
    "GPU": "flyte.models._resources",
    "HABANA_GAUDI": "flyte.models._resources",
    "TPU": "flyte.models._resources",
    "Device": "flyte.models._resources",
    "DeviceClass": "flyte.models._resources",
    "Neuron": "flyte.models._resources",
    "Resources": "flyte.models._resources",
    "Backoff": "flyte.models._retry",
    "RetryStrategy": "flyte.models._retry",
    "RetriesType": "flyte.models._retry",
    "as_retry_strategy": "flyte.models._retry",
    "ReusePolicy": "flyte.models._reuse",
    "Secret": "flyte.models._secret",
    "SecretRequest": "flyte.models._secret",
    "secrets_tuple": "flyte.models._secret",
    "TaskSpec": "flyte.models._task_spec",
    "Timeout": "flyte.models._timeout",
    "TimeoutType": "flyte.models._timeout",
    "as_timeout": "flyte.models._timeout",
    "Cron": "flyte.models._trigger",
    "FixedRate": "flyte.models._trigger",
    "Trigger": "flyte.models._trigger",
    "TriggerTime": "flyte.models._trigger",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "AMD_GPU",
    "APPLE_SILICON",
    "GPU",
    "HABANA_GAUDI",
    "TPU",
    "ActionID",
    "ActionOutputs",
    "Backoff",
    "Cache",
    "CacheBehavior",
    "CachePolicy",
    "CacheRequest",
    "CodeBundle",
    "Cron",
    "Device",
    "DeviceClass",
    "Documentation",
    "ErrorInfo",
    "FixedRate",
    "FrozenDict",
    "ImageRef",
    "Link",
    "Neuron",
    "PodTemplate",
    "Resources",
    "RetriesType",
    "RetryStrategy",
    "ReusePolicy",
    "RunID",
    "Secret",
    "SecretRequest",
    "SerializationContext",
    "TaskID",
    "TaskSpec",
    "Timeout",
    "TimeoutType",
    "Trigger",
    "TriggerTime",
    "__version__",
    "as_cache",
    "as_retry_strategy",
    "as_timeout",
    "child_action_name",
    "error_document_from_exception",
    "exception_from_error_document",
    "secrets_tuple",
]
