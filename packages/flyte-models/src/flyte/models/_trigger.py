"""Triggers: start a task on a schedule (cron or fixed rate)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flyte.models._frozen import FrozenDict, freeze_str_map

if TYPE_CHECKING:
    from flyteidl2.task import common_pb2

_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")
_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


class _TriggerTime:
    """Placeholder input value: replaced by the time the trigger fired."""

    _instance: _TriggerTime | None = None

    def __new__(cls) -> _TriggerTime:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "TriggerTime"

    def __reduce__(self) -> str:
        return "TriggerTime"


TriggerTime = _TriggerTime()


@dataclass(frozen=True)
class Cron:
    """A cron schedule (five fields, or a macro such as ``@hourly``) in ``timezone``."""

    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        expr = self.expression
        if not isinstance(expr, str) or not (
            expr.strip() in _CRON_MACROS or (len(expr.split()) == 5 and all(_CRON_FIELD.match(f) for f in expr.split()))
        ):
            raise ValueError(
                f"Cron.expression must have five fields (minute hour day month weekday) or be one of "
                f"{', '.join(sorted(_CRON_MACROS))}; got {expr!r}"
            )
        if self.timezone != "UTC":
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"Cron.timezone must be an IANA time zone such as 'Europe/Paris', got {self.timezone!r}"
                ) from None


@dataclass(frozen=True)
class FixedRate:
    """Every ``interval_minutes`` minutes, starting at ``start_time`` (or when activated)."""

    interval_minutes: int
    start_time: datetime | None = None

    def __post_init__(self) -> None:
        n = self.interval_minutes
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"FixedRate.interval_minutes must be an int >= 1, got {n!r}")
        if self.start_time is not None and not isinstance(self.start_time, datetime):
            raise TypeError(f"FixedRate.start_time must be a datetime, got {self.start_time!r}")


Automation = Cron | FixedRate


@dataclass(frozen=True)
class Trigger:
    """Starts runs of the task it is attached to when its ``automation`` fires.

    Inputs given as ``flyte.TriggerTime`` receive the firing time. Parameters other than the
    schedule (env vars, labels, queue, ...) configure the runs the trigger starts.
    """

    name: str
    automation: Automation | None = None
    description: str = ""
    auto_activate: bool = True
    inputs: Mapping[str, Any] | None = None
    env_vars: Mapping[str, str] | None = None
    interruptible: bool | None = None
    overwrite_cache: bool = False
    queue: str | None = None
    max_action_concurrency: int | None = None
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    notifications: Any = None
    custom_context: Mapping[str, str] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Trigger.name must be a non-empty string, got {self.name!r}")
        if self.automation is not None and not isinstance(self.automation, (Cron, FixedRate)):
            raise TypeError(f"Trigger.automation must be a flyte.Cron or flyte.FixedRate, got {self.automation!r}")
        if self.max_action_concurrency is not None and self.max_action_concurrency < 1:
            raise ValueError(f"Trigger.max_action_concurrency must be >= 1, got {self.max_action_concurrency}")
        if self.inputs is not None:
            object.__setattr__(self, "inputs", FrozenDict(self.inputs))
        for name in ("env_vars", "labels", "annotations", "custom_context"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, freeze_str_map(value, f"Trigger.{name}"))

    @property
    def trigger_time_input(self) -> str | None:
        """The input that receives the firing time, if any."""
        for key, value in (self.inputs or {}).items():
            if value is TriggerTime:
                return key
        return None

    def schedule_proto(self) -> common_pb2.Schedule:
        """The ``flyteidl2.task.Schedule`` of this trigger's automation."""
        from flyteidl2.task import common_pb2
        from google.protobuf.timestamp_pb2 import Timestamp

        kickoff = self.trigger_time_input or ""
        automation = self.automation
        if isinstance(automation, Cron):
            cron = common_pb2.Cron(expression=automation.expression, timezone=automation.timezone)
            return common_pb2.Schedule(cron=cron, kickoff_time_input_arg=kickoff)
        if isinstance(automation, FixedRate):
            start = None
            if automation.start_time is not None:
                start = Timestamp()
                start.FromDatetime(automation.start_time)
            rate = common_pb2.FixedRate(
                value=automation.interval_minutes, unit=common_pb2.FIXED_RATE_UNIT_MINUTE, start_time=start
            )
            return common_pb2.Schedule(rate=rate, kickoff_time_input_arg=kickoff)
        raise ValueError(f"trigger {self.name!r} has no schedule (automation is {automation!r})")

    @staticmethod
    def automation_from_schedule(pb: common_pb2.Schedule) -> Automation:
        """Read a ``Schedule`` back as a :class:`Cron` or :class:`FixedRate`."""
        from datetime import timezone

        from flyteidl2.task import common_pb2

        kind = pb.WhichOneof("expression")
        if kind == "cron":
            return Cron(pb.cron.expression, pb.cron.timezone or "UTC")
        if kind == "cron_expression":
            return Cron(pb.cron_expression)
        if kind == "rate":
            per_unit = {
                common_pb2.FIXED_RATE_UNIT_UNSPECIFIED: 1,
                common_pb2.FIXED_RATE_UNIT_MINUTE: 1,
                common_pb2.FIXED_RATE_UNIT_HOUR: 60,
                common_pb2.FIXED_RATE_UNIT_DAY: 24 * 60,
            }
            if pb.rate.unit not in per_unit:
                raise ValueError(f"Schedule rate unit {pb.rate.unit} is not one this SDK knows")
            start = pb.rate.start_time.ToDatetime(tzinfo=timezone.utc) if pb.rate.HasField("start_time") else None
            return FixedRate(pb.rate.value * per_unit[pb.rate.unit], start_time=start)
        raise ValueError("Schedule has neither a cron expression nor a rate")

    @classmethod
    def _preset(cls, cron: str, name: str, description: str, key: str | None, **kwargs: Any) -> Trigger:
        inputs = dict(kwargs.pop("inputs", None) or {})
        if key is not None:
            inputs[key] = TriggerTime
        return cls(name, Cron(cron), description=description, inputs=inputs, **kwargs)

    @classmethod
    def minutely(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "minutely",
        description: str = "A trigger that runs every minute",
        **kwargs: Any,
    ) -> Trigger:
        """Every minute; the firing time goes to input ``trigger_time_input_key`` if given."""
        return cls._preset("* * * * *", name, description, trigger_time_input_key, **kwargs)

    @classmethod
    def hourly(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "hourly",
        description: str = "A trigger that runs every hour",
        **kwargs: Any,
    ) -> Trigger:
        """At minute 0 of every hour."""
        return cls._preset("0 * * * *", name, description, trigger_time_input_key, **kwargs)

    @classmethod
    def daily(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "daily",
        description: str = "A trigger that runs daily at midnight",
        **kwargs: Any,
    ) -> Trigger:
        """Every day at midnight UTC."""
        return cls._preset("0 0 * * *", name, description, trigger_time_input_key, **kwargs)

    @classmethod
    def weekly(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "weekly",
        description: str = "A trigger that runs weekly on Sundays at midnight",
        **kwargs: Any,
    ) -> Trigger:
        """Every Sunday at midnight UTC."""
        return cls._preset("0 0 * * 0", name, description, trigger_time_input_key, **kwargs)

    @classmethod
    def monthly(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "monthly",
        description: str = "A trigger that runs monthly on the 1st at midnight",
        **kwargs: Any,
    ) -> Trigger:
        """On the first of every month at midnight UTC."""
        return cls._preset("0 0 1 * *", name, description, trigger_time_input_key, **kwargs)
