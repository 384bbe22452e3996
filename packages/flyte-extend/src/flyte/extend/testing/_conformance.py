"""``PluginConformance``: what every task plugin must do, as tests a plugin's suite inherits."""

from __future__ import annotations

import functools
import inspect
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from flyte.errors import RuntimeUserError
from flyte.extend._engine_task import EngineTaskTemplate
from flyte.extend.testing._spec import task_spec
from flyte.models import SerializationContext, TaskSpec
from flyte.runtime import (
    AsyncFunctionTaskTemplate,
    Run,
    TaskEnvironment,
    TaskPluginRegistry,
    TaskTemplate,
    ctx,
    with_runcontext,
)


class PlannedFailure(Exception):
    """What the kit's failing bodies raise, so a test can tell it from a real failure."""


@dataclass
class _Observations:
    """What a wrapped task body saw, attempt by attempt."""

    attempts: list[int] = field(default_factory=list)
    context_keys: list[frozenset[str]] = field(default_factory=list)


class PluginConformance:
    """Subclass it as ``Test<Plugin>Conformance`` in the plugin's tests; pytest runs the inherited tests.

    Provide:
        task_type: the task type the plugin's tasks declare (``"spark"``).
        custom_message: the protobuf message the custom config is (``SparkJob``).
        plugin_config(): a config to test with (built fresh for every test).
        expected_custom(sctx): the custom config that config serializes to.
        task_body(): a task body (sync or async function) that uses the engine.
        task_inputs: the body's keyword arguments.
        check_output(output): assert the body's result is right (default: equals ``expected_output``).
        context_keys: the keys the plugin puts into ``flyte.ctx().data`` for the body.
    """

    task_type: ClassVar[str]
    custom_message: ClassVar[type[Message]]
    task_inputs: ClassVar[dict[str, Any]] = {}
    expected_output: ClassVar[Any] = None
    context_keys: ClassVar[frozenset[str]] = frozenset()

    def plugin_config(self) -> Any:
        raise NotImplementedError("return the plugin config to test with")

    def expected_custom(self, sctx: SerializationContext) -> dict[str, Any]:
        raise NotImplementedError("return the custom config plugin_config() serializes to")

    def task_body(self) -> Callable[..., Any]:
        raise NotImplementedError("return a task body that uses the plugin's engine")

    def check_output(self, output: Any) -> None:
        assert output == self.expected_output

    # Helpers ------------------------------------------------------------------------------
    @pytest.fixture(autouse=True)
    def _local_run_dirs(self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """Local runs keep their records and cache in the test's own folder."""
        monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
        monkeypatch.setenv("FLYTE_LOCAL_CACHE", str(tmp_path / "cache.sqlite"))

    @staticmethod
    def serialization_context() -> SerializationContext:
        return SerializationContext(version="conformance-v1", project="conformance", domain="development", org="o")

    def environment(self, config: Any = None) -> TaskEnvironment:
        name = re.sub(r"[^a-z0-9]+", "-", type(self).__name__.lower()).strip("-")
        return TaskEnvironment(name, plugin_config=self.plugin_config() if config is None else config)

    def make_task(self, body: Callable[..., Any] | None = None, **settings: Any) -> TaskTemplate[Any, Any]:
        template: TaskTemplate[Any, Any] = self.environment().task(**settings)(body or self.task_body())
        return template

    def observed_body(self, failing_attempts: int = 0) -> tuple[Callable[..., Any], _Observations]:
        """The plugin's body, recording what each attempt saw and failing the first ``failing_attempts``."""
        body = self.task_body()
        seen = _Observations()

        def observe() -> None:
            tctx = ctx()
            assert tctx is not None, "a task body runs inside a task context"
            seen.attempts.append(tctx.attempt_number)
            seen.context_keys.append(frozenset(tctx.data))
            if tctx.attempt_number < failing_attempts:
                raise PlannedFailure(f"planned failure of attempt {tctx.attempt_number}")

        if inspect.iscoroutinefunction(body):

            @functools.wraps(body)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                observe()
                return await body(*args, **kwargs)

            return async_wrapper, seen

        @functools.wraps(body)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            observe()
            return body(*args, **kwargs)

        return wrapper, seen

    @staticmethod
    def engine_users(task: TaskTemplate[Any, Any]) -> int | None:
        """How many users the task's engine has now; None for a plugin without an engine."""
        return task.engine.users if isinstance(task, EngineTaskTemplate) else None

    # The conformance tests ----------------------------------------------------------------
    def test_plugin_config_selects_the_registered_task_class(self) -> None:
        task = self.make_task()
        registered = TaskPluginRegistry.find(self.plugin_config())
        assert registered is not None, f"{type(self.plugin_config()).__name__} is not in TaskPluginRegistry"
        assert type(task) is registered
        assert task.task_type == self.task_type

    def test_override_with_the_plugin_config_selects_the_task_class(self) -> None:
        plain = TaskEnvironment("conformance-plain").task(self.task_body())
        assert type(plain) is AsyncFunctionTaskTemplate
        overridden = plain.override(plugin_config=self.plugin_config())
        assert type(overridden) is TaskPluginRegistry.find(self.plugin_config())
        assert overridden.task_type == self.task_type
        assert type(overridden.override(plugin_config=None)) is AsyncFunctionTaskTemplate

    def test_serializes_a_valid_task_spec(self) -> None:
        sctx = self.serialization_context()
        spec = task_spec(self.make_task(retries=2), sctx)
        wire = spec.to_proto().SerializeToString()
        back = TaskSpec.from_proto(type(spec.to_proto()).FromString(wire))
        assert back.task_type == self.task_type
        assert back.custom is not None
        assert dict(back.custom) == self.expected_custom(sctx)
        assert back.retry_strategy.count == 2
        assert back.task_id.name == spec.task_id.name

    def test_custom_config_decodes_as_its_message(self) -> None:
        sctx = self.serialization_context()
        custom = self.make_task().custom_config(sctx)
        assert custom is not None, "a plugin task must have a custom config"
        # Strict parsing: a key the message does not define fails here, not on the backend.
        message = json_format.ParseDict(custom, self.custom_message())
        assert json_format.MessageToDict(message) == custom

    def test_config_round_trips(self) -> None:
        config = self.plugin_config()
        copy = pickle.loads(pickle.dumps(config))  # code bundles and processes carry configs pickled
        assert copy == config
        sctx = self.serialization_context()
        assert self.make_task().override(plugin_config=copy).custom_config(sctx) == self.expected_custom(sctx)

    def test_runs_locally_with_its_engine(self) -> None:
        body, seen = self.observed_body()
        task = self.make_task(body)
        before = self.engine_users(task)
        result = run_locally(task, **self.task_inputs)
        self.check_output(result.actions["a0"].outputs)
        assert len(seen.context_keys) == 1
        assert self.context_keys <= seen.context_keys[0], f"ctx().data had {sorted(seen.context_keys[0])}"
        assert self.engine_users(task) == before, "the engine was not released after the task"

    def test_survives_retries(self) -> None:
        body, seen = self.observed_body(failing_attempts=1)
        task = self.make_task(body, retries=1)
        before = self.engine_users(task)
        result = run_locally(task, **self.task_inputs)
        self.check_output(result.actions["a0"].outputs)
        assert result.actions["a0"].attempts == 2
        assert seen.attempts == [0, 1]
        assert all(self.context_keys <= keys for keys in seen.context_keys), "each attempt gets the engine"
        assert self.engine_users(task) == before

    def test_a_failing_body_releases_its_engine(self) -> None:
        body, _ = self.observed_body(failing_attempts=99)
        task = self.make_task(body)
        before = self.engine_users(task)
        with pytest.raises(RuntimeUserError, match="planned failure"):
            run_locally(task, **self.task_inputs)
        assert self.engine_users(task) == before


def run_locally(task: TaskTemplate[Any, Any], **inputs: Any) -> Run:
    """Run ``task`` in this process, whatever ``flyte.init`` configured."""
    result = with_runcontext(mode="local").run(task, **inputs)
    assert isinstance(result, Run), "a local run returns the local Run"
    return result
