"""A task's complete, serializable description, and its exact flyteidl2 form.

``TaskSpec`` is what a deployed (or locally run) task *is* for the platform: identity, typed
interface, container, policies. It converts to and from ``flyteidl2.task.TaskSpec`` (which wraps
``flyteidl2.core.TaskTemplate``) field by field; the table in this distribution's README says
where each setting lands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from flyte.models._cache import Cache, CacheRequest, as_cache
from flyte.models._docs import Documentation, Link
from flyte.models._frozen import FrozenDict, freeze_str_map
from flyte.models._ids import TaskID
from flyte.models._pod import PodTemplate
from flyte.models._resources import Resources
from flyte.models._retry import RetriesType, RetryStrategy, as_retry_strategy
from flyte.models._reuse import ReusePolicy
from flyte.models._secret import Secret, SecretRequest, secrets_tuple
from flyte.models._timeout import Timeout, TimeoutType, as_timeout
from flyte.models._trigger import Trigger

if TYPE_CHECKING:
    from flyteidl2.core import interface_pb2, tasks_pb2
    from flyteidl2.task import common_pb2, task_definition_pb2
    from google.protobuf.message import Message

M = TypeVar("M", bound="Message")

DEFAULT_TASK_TYPE = "python"
RUNTIME_FLAVOR = "python"


def _copy(msg: M) -> M:
    # Protobuf messages are mutable; a frozen spec keeps its own copies.
    out = type(msg)()
    out.CopyFrom(msg)
    return out


@dataclass(frozen=True)
class TaskSpec:
    """Everything the platform needs to run a task.

    Args:
        task_id: org/project/domain/name/version.
        interface: the typed interface (``flyteidl2.core.TypedInterface``), from flyte-types.
        image: the container image URI.
        args: the container arguments (the ``a0 ...`` command line); ``command`` likewise.
        task_type: the plugin task type, ``"python"`` for plain functions.
        custom: the plugin's JSON-compatible configuration (``TaskTemplate.custom``).
        config: string settings for the backend plugin (``TaskTemplate.config``).
        resources: CPU, memory, accelerators, disk, shared memory.
        retries: a count or a :class:`RetryStrategy`.
        timeout: seconds, a timedelta, or a :class:`Timeout`.
        cache: a behaviour name or a :class:`Cache`.
        cache_version: the task's code version (``discovery_version``): the runtime computes it
            (a hash of the function body) unless ``cache.version_override`` gives it. Sent even
            when caching is off, because it is part of the task's identity.
        secrets: keys or :class:`Secret` requests.
        env_vars: environment of the task's container.
        pod_template: a pod to place the container in; replaces the plain container on the wire.
        reuse_policy: keep containers warm and reuse them across actions.
        interruptible: may run on preemptible capacity.
        debuggable: the container may be started in debug mode.
        report: the task writes an HTML report (``generates_deck``).
        docs: the description shown in the UI.
        short_name: the display name (the function name).
        environment: the name of the ``TaskEnvironment`` the task belongs to.
        default_inputs: ``flyteidl2.task.NamedParameter`` defaults, from flyte-types.
        runtime_version: the SDK version recorded in the template's runtime metadata.
        triggers: schedules deployed with the task (deployed beside it, not inside the spec).
        links: UI links (resolved by the runtime, not serialized here).
    """

    task_id: TaskID
    interface: interface_pb2.TypedInterface | None = None
    image: str = ""
    args: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    task_type: str = DEFAULT_TASK_TYPE
    task_type_version: int = 0
    custom: Mapping[str, Any] | None = None
    config: Mapping[str, str] | None = None
    resources: Resources | None = None
    retries: RetriesType = field(default_factory=lambda: RetryStrategy(0))
    timeout: TimeoutType | None = None
    cache: CacheRequest = field(default_factory=lambda: Cache("disable"))
    cache_version: str = ""
    secrets: SecretRequest = ()
    env_vars: Mapping[str, str] | None = None
    pod_template: PodTemplate | None = None
    reuse_policy: ReusePolicy | None = None
    interruptible: bool = False
    debuggable: bool = False
    report: bool = False
    docs: Documentation | None = None
    short_name: str = ""
    environment: str = ""
    default_inputs: tuple[common_pb2.NamedParameter, ...] = ()
    runtime_version: str = ""
    triggers: tuple[Trigger, ...] = ()
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.task_id, TaskID):
            raise TypeError(f"TaskSpec.task_id must be a TaskID, got {self.task_id!r}")
        set_ = object.__setattr__
        set_(self, "retries", as_retry_strategy(self.retries))
        set_(self, "timeout", as_timeout(self.timeout))
        cache = as_cache(self.cache)
        set_(self, "cache", cache)
        if not self.cache_version and cache.version_override:
            set_(self, "cache_version", cache.version_override)
        set_(self, "secrets", secrets_tuple(self.secrets))
        set_(self, "env_vars", freeze_str_map(self.env_vars, "TaskSpec.env_vars"))
        set_(self, "config", freeze_str_map(self.config, "TaskSpec.config"))
        set_(self, "custom", FrozenDict(self.custom) if self.custom is not None else None)
        for name in ("args", "command"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(a, str) for a in value):
                raise TypeError(f"TaskSpec.{name} must be a sequence of strings, got {value!r}")
            set_(self, name, tuple(value))
        if self.resources is not None and not isinstance(self.resources, Resources):
            raise TypeError(f"TaskSpec.resources must be a flyte.Resources, got {self.resources!r}")
        if self.interface is not None:
            set_(self, "interface", _copy(self.interface))
        set_(self, "default_inputs", tuple(_copy(p) for p in self.default_inputs))
        set_(self, "triggers", tuple(self.triggers))
        set_(self, "links", tuple(self.links))
        names = [t.name for t in self.triggers]
        if len(set(names)) != len(names):
            raise ValueError(f"TaskSpec.triggers must have distinct names, got {names}")

    # The normalised views of fields whose constructor accepts several forms.
    @property
    def retry_strategy(self) -> RetryStrategy:
        return as_retry_strategy(self.retries)

    @property
    def cache_policy(self) -> Cache:
        return as_cache(self.cache)

    @property
    def timeouts(self) -> Timeout | None:
        return as_timeout(self.timeout)

    @property
    def secret_requests(self) -> tuple[Secret, ...]:
        return secrets_tuple(self.secrets)

    def to_template(self) -> tasks_pb2.TaskTemplate:
        """The ``flyteidl2.core.TaskTemplate``."""
        from flyteidl2.core import literals_pb2, security_pb2, tasks_pb2
        from google.protobuf import json_format, struct_pb2, wrappers_pb2

        cache = self.cache_policy
        timeout = self.timeouts
        metadata = tasks_pb2.TaskMetadata(
            discoverable=cache.is_enabled(),
            runtime=tasks_pb2.RuntimeMetadata(
                type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version=self.runtime_version, flavor=RUNTIME_FLAVOR
            ),
            timeout=timeout.runtime_proto() if timeout is not None else None,
            retries=self.retry_strategy.to_proto(),
            # Always sent, cache or not: flyte 2.12.1 derives child action names from it.
            discovery_version=self.cache_version,
            interruptible=self.interruptible,
            cache_serializable=cache.is_enabled() and cache.serialize,
            cache_ignore_input_vars=list(cache.get_ignored_inputs()) if cache.is_enabled() else [],
            generates_deck=wrappers_pb2.BoolValue(value=self.report),
            debuggable=self.debuggable,
            timeouts=timeout.strategy_proto() if timeout is not None else None,
        )
        if cache.is_enabled() and cache.max_age is not None:
            from flyte.models._durations import duration_to_proto, to_timedelta

            metadata.cache_max_age.CopyFrom(duration_to_proto(to_timedelta(cache.max_age, "Cache.max_age")))
        resources = self.resources.to_proto() if self.resources is not None else None
        container = tasks_pb2.Container(
            image=self.image,
            command=list(self.command),
            args=list(self.args),
            resources=resources,
            env=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in (self.env_vars or {}).items()],
        )
        custom = None
        if self.custom is not None:
            custom = struct_pb2.Struct()
            json_format.ParseDict(dict(self.custom), custom)
        secrets = self.secret_requests
        template = tasks_pb2.TaskTemplate(
            id=self.task_id.to_core_identifier(),
            type=self.task_type,
            metadata=metadata,
            interface=self.interface,
            custom=custom,
            task_type_version=self.task_type_version,
            security_context=security_pb2.SecurityContext(secrets=[s.to_proto() for s in secrets]) if secrets else None,
            extended_resources=self.resources.to_extended_proto() if self.resources is not None else None,
            config=dict(self.config or {}),
            reuse_policy=self.reuse_policy.to_proto() if self.reuse_policy is not None else None,
        )
        if self.pod_template is not None:
            template.k8s_pod.CopyFrom(self.pod_template.to_proto(container))
        else:
            template.container.CopyFrom(container)
        return template

    def to_proto(self) -> task_definition_pb2.TaskSpec:
        """The ``flyteidl2.task.TaskSpec`` the TaskService deploys."""
        from flyteidl2.task import environment_pb2, task_definition_pb2

        return task_definition_pb2.TaskSpec(
            task_template=self.to_template(),
            default_inputs=list(self.default_inputs),
            short_name=self.short_name,
            environment=environment_pb2.Environment(name=self.environment) if self.environment else None,
            documentation=self.docs.to_proto() if self.docs is not None else None,
        )

    @classmethod
    def from_template(cls, tt: tasks_pb2.TaskTemplate, **spec_fields: Any) -> TaskSpec:
        """Rebuild from a ``TaskTemplate``; ``spec_fields`` supply the TaskSpec-level fields."""
        from google.protobuf import json_format

        md = tt.metadata
        pod = PodTemplate.from_proto(tt.k8s_pod) if tt.HasField("k8s_pod") else None
        container = tt.container if tt.HasField("container") else None
        image, args, command, env = "", (), (), {}  # type: tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]
        if container is not None:
            image, args, command = container.image, tuple(container.args), tuple(container.command)
            env = {kv.key: kv.value for kv in container.env}
        elif pod is not None:
            primary = _primary_container(pod)
            image, args = primary.get("image", ""), tuple(primary.get("args") or ())
            command = tuple(primary.get("command") or ())
            env = {e["name"]: e.get("value", "") for e in primary.get("env") or []}
        resources = Resources.from_proto(
            container.resources if container is not None and container.HasField("resources") else None,
            tt.extended_resources if tt.HasField("extended_resources") else None,
        )
        cache = Cache(
            "auto" if md.discoverable else "disable",
            serialize=md.cache_serializable,
            ignored_inputs=tuple(md.cache_ignore_input_vars),
            max_age=md.cache_max_age.ToTimedelta() if md.HasField("cache_max_age") else None,
        )
        return cls(
            task_id=TaskID.from_core_identifier(tt.id),
            interface=tt.interface if tt.HasField("interface") else None,
            image=image,
            args=args,
            command=command,
            task_type=tt.type,
            task_type_version=tt.task_type_version,
            custom=json_format.MessageToDict(tt.custom) if tt.HasField("custom") else None,
            config=dict(tt.config),
            resources=resources,
            retries=RetryStrategy.from_proto(md.retries),
            timeout=Timeout.from_proto(
                md.timeout if md.HasField("timeout") else None, md.timeouts if md.HasField("timeouts") else None
            ),
            cache=cache,
            cache_version=md.discovery_version,
            secrets=tuple(Secret.from_proto(s) for s in tt.security_context.secrets),
            env_vars=env,
            pod_template=pod,
            reuse_policy=ReusePolicy.from_proto(tt.reuse_policy) if tt.HasField("reuse_policy") else None,
            interruptible=md.interruptible,
            debuggable=md.debuggable,
            report=md.generates_deck.value,
            runtime_version=md.runtime.version,
            **spec_fields,
        )

    @classmethod
    def from_proto(cls, pb: task_definition_pb2.TaskSpec) -> TaskSpec:
        """Rebuild from a ``flyteidl2.task.TaskSpec``.

        The wire does not distinguish cache behaviour ``"override"`` from ``"auto"`` (both are
        "discoverable with this version"): an enabled cache comes back as ``Cache("auto")`` with
        :attr:`cache_version` set, which serializes to the same bytes.
        """
        return cls.from_template(
            pb.task_template,
            default_inputs=tuple(pb.default_inputs),
            short_name=pb.short_name,
            environment=pb.environment.name if pb.HasField("environment") else "",
            docs=Documentation.from_proto(pb.documentation) if pb.HasField("documentation") else None,
        )


def _primary_container(pod: PodTemplate) -> Mapping[str, Any]:
    spec: Mapping[str, Any] = pod.pod_spec or {}
    containers: Sequence[Mapping[str, Any]] = spec.get("containers") or []
    return next((c for c in containers if c.get("name") == pod.primary_container_name), {})
