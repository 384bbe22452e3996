import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import pytest
from flyteidl2.core import security_pb2, tasks_pb2

import flyte.models as m


# --- Secret -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("secret", "env"),
    [
        (m.Secret("token", group="gh"), "GH_TOKEN"),
        (m.Secret("my-key"), "MY_KEY"),
        (m.Secret("ab-c", "g-1"), "G_1_AB_C"),
    ],
)
def test_secret_env_var_defaults_to_group_key_upper_cased(secret, env):
    assert secret.as_env_var == env
    assert secret.to_proto() == security_pb2.Secret(
        group=secret.group or "", key=secret.key, mount_requirement=security_pb2.Secret.ENV_VAR, env_var=env
    )


def test_mounted_secret_is_a_file_request_and_round_trips():
    s = m.Secret("k", mount=Path("/etc/flyte/secrets"))
    assert s.as_env_var is None
    assert s.to_proto().mount_requirement == security_pb2.Secret.FILE
    assert m.Secret.from_proto(s.to_proto()) == s


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"key": ""}, "Secret.key"),
        ({"key": "k", "as_env_var": "lower"}, "Secret.as_env_var"),
        ({"key": "k", "mount": Path("/x")}, "/etc/flyte/secrets"),
        ({"key": "k", "mount": Path("/etc/flyte/secrets"), "as_env_var": "E"}, "not both"),
    ],
)
def test_bad_secrets_say_which_field(kwargs, words):
    with pytest.raises(ValueError, match=words):
        m.Secret(**kwargs)


# --- Cache --------------------------------------------------------------------------------------
def test_cache_normalises_ignored_inputs_and_aliases():
    assert m.Cache("auto", ignored_inputs="x").ignored_inputs == ("x",)
    assert m.Cache("on").behavior == "auto"  # type: ignore[arg-type]
    assert m.Cache("off").behavior == "disable"  # type: ignore[arg-type]
    assert not m.Cache("disable").is_enabled()
    assert m.Cache("auto", max_age=60).max_age == timedelta(minutes=1)


def test_cache_rejects_unknown_behaviours_listing_the_valid_ones():
    with pytest.raises(ValueError, match="auto, override, disable"):
        m.Cache("sometimes")  # type: ignore[arg-type]


def test_cache_policies_must_compute_versions():
    class Fixed:
        def get_version(self, salt: str, params: object) -> str:
            return "v" + salt

    policy = Fixed()
    assert m.Cache("auto", policies=policy).policies == (policy,)  # one policy becomes a tuple
    assert m.Cache("auto", policies=[policy]).policies == (policy,)
    with pytest.raises(TypeError, match="get_version"):
        m.Cache("auto", policies=[object()])  # type: ignore[list-item]


# --- Retry / Timeout ----------------------------------------------------------------------------
def test_retry_strategy_round_trips_with_backoff():
    r = m.RetryStrategy(3, backoff=m.Backoff(base=timedelta(seconds=2), factor=2.0, cap=timedelta(seconds=60)))
    assert m.RetryStrategy.from_proto(r.to_proto()) == r
    assert r.backoff is not None
    assert [r.backoff.delay(n) for n in (1, 2, 6)] == [timedelta(seconds=2), timedelta(seconds=4), timedelta(minutes=1)]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: m.RetryStrategy(-1), "count"),
        (lambda: m.Backoff(base=timedelta(seconds=-1)), "Backoff.base"),
        (lambda: m.Backoff(base=timedelta(seconds=1), factor=0.5), "Backoff.factor"),
        (lambda: m.Backoff(base=timedelta(seconds=10), cap=timedelta(seconds=1)), "Backoff.cap"),
        (lambda: m.Timeout(max_runtime=-1), "Timeout.max_runtime"),
        (lambda: m.Timeout(max_queued_time="1h"), "Timeout.max_queued_time"),  # type: ignore[arg-type]
    ],
)
def test_bad_policies_name_the_field(make, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make()


def test_timeout_splits_into_runtime_and_strategy_and_round_trips():
    t = m.Timeout(max_runtime=90, max_queued_time=timedelta(hours=1), deadline=3600)
    assert t.runtime_proto().ToTimedelta() == timedelta(seconds=90)
    strategy = t.strategy_proto()
    assert strategy.queued_timeout.ToTimedelta() == timedelta(hours=1)
    assert m.Timeout.from_proto(t.runtime_proto(), strategy) == t
    assert m.Timeout(max_runtime=5).strategy_proto() is None
    assert m.Timeout.from_proto(None, None) is None


# --- ReusePolicy --------------------------------------------------------------------------------
def test_reuse_policy_defaults_and_round_trip():
    r = m.ReusePolicy()
    assert (r.min_replicas, r.max_replicas, r.idle_ttl, r.scope) == (2, 2, timedelta(seconds=30), "global")
    custom = m.ReusePolicy(replicas=(1, 4), idle_ttl=300, concurrency=3, scaledown_ttl=60, scope="run")
    assert custom.to_proto().scope == tasks_pb2.ReusePolicy.RUN
    assert m.ReusePolicy.from_proto(custom.to_proto()) == custom


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"replicas": (3, 1)}, "min <= max"),
        ({"concurrency": 0}, "concurrency"),
        ({"idle_ttl": 5}, "30 seconds"),
        ({"scope": "x"}, "scope"),
    ],
)
def test_bad_reuse_policy_names_the_field(kwargs, words):
    with pytest.raises((TypeError, ValueError), match=words):
        m.ReusePolicy(**kwargs)


# --- Triggers -----------------------------------------------------------------------------------
def test_cron_trigger_schedule_carries_timezone_and_kickoff_input():
    t = m.Trigger.hourly("ts")
    pb = t.schedule_proto()
    assert (pb.cron.expression, pb.cron.timezone, pb.kickoff_time_input_arg) == ("0 * * * *", "UTC", "ts")
    assert m.Trigger.automation_from_schedule(pb) == m.Cron("0 * * * *")


def test_fixed_rate_round_trips_with_start_time():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t = m.Trigger("every-hour", m.FixedRate(60, start_time=start))
    assert m.Trigger.automation_from_schedule(t.schedule_proto()) == m.FixedRate(60, start_time=start)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: m.Cron("not a cron"), "five fields"),
        (lambda: m.Cron("0 * * * *", timezone="Mars/Base"), "IANA"),
        (lambda: m.FixedRate(0), "interval_minutes"),
        (lambda: m.Trigger(""), "Trigger.name"),
    ],
)
def test_bad_triggers_say_what_is_wrong(make, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make()


def test_trigger_time_survives_pickling_as_the_same_sentinel():
    assert pickle.loads(pickle.dumps(m.TriggerTime)) is m.TriggerTime


# --- Pod template, docs, image, context ----------------------------------------------------------
def test_pod_template_fills_the_primary_container_and_round_trips():
    spec = {"containers": [{"name": "primary", "env": [{"name": "X", "value": "1"}]}, {"name": "sidecar"}]}
    pod = m.PodTemplate(pod_spec=spec, labels={"team": "ml"})
    primary = tasks_pb2.Container(image="img:v1", args=["a0"], env=[{"key": "Y", "value": "2"}])
    pb = pod.to_proto(primary)
    back = m.PodTemplate.from_proto(pb)
    containers = back.pod_spec["containers"]
    assert containers[0] == {"name": "primary", "image": "img:v1", "args": ["a0"], "env": [
        {"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}  # fmt: skip
    assert containers[1] == {"name": "sidecar"}
    assert back.labels == {"team": "ml"}
    assert back.to_proto(primary) == pb  # merging again changes nothing


def test_pod_template_reads_kubernetes_client_models_without_importing_them():
    class V1Container:  # the shape of kubernetes.client models
        openapi_types: ClassVar[dict[str, str]] = {"name": "str", "image_pull_policy": "str"}
        attribute_map: ClassVar[dict[str, str]] = {"name": "name", "image_pull_policy": "imagePullPolicy"}

        def __init__(self) -> None:
            self.name, self.image_pull_policy = "primary", "Always"

    class V1PodSpec:
        openapi_types: ClassVar[dict[str, str]] = {"containers": "list", "node_selector": "dict"}
        attribute_map: ClassVar[dict[str, str]] = {"containers": "containers", "node_selector": "nodeSelector"}

        def __init__(self) -> None:
            self.containers, self.node_selector = [V1Container()], None

    pb = m.PodTemplate(pod_spec=V1PodSpec()).to_proto(tasks_pb2.Container(image="i"))
    assert m.PodTemplate.from_proto(pb).pod_spec == {
        "containers": [{"name": "primary", "imagePullPolicy": "Always", "image": "i"}]
    }
    with pytest.raises(TypeError, match="V1PodSpec"):
        m.PodTemplate(pod_spec=object())


def test_documentation_round_trips():
    d = m.Documentation("Adds numbers.")
    assert m.Documentation.from_proto(d.to_proto()) == d


@pytest.mark.parametrize(
    ("uri", "registry", "repository", "tag"),
    [
        ("ghcr.io/org/app:v1", "ghcr.io", "org/app", "v1"),
        ("localhost:5000/app", "localhost:5000", "app", None),
        ("org/app:1.2", None, "org/app", "1.2"),
        ("python:3.12", None, "python", "3.12"),
    ],
)
def test_image_ref_parts(uri, registry, repository, tag):
    ref = m.ImageRef(uri)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)


def test_image_ref_rejects_what_is_not_an_image():
    with pytest.raises(ValueError, match="repository"):
        m.ImageRef("Not An Image")


def test_serialization_context_defaults_and_entrypoint():
    ctx = m.SerializationContext(version="v1", image_cache={"default": "ghcr.io/org/app:abc"})
    assert (ctx.input_path, ctx.output_path) == ("{{.input}}", "{{.outputPrefix}}")
    assert ctx.get_entrypoint_path() == "/opt/venv/bin/runtime.py"
    assert ctx.image_uri("default") == "ghcr.io/org/app:abc"
    with pytest.raises(TypeError):
        ctx.image_cache["x"] = "y"  # type: ignore[index]
    with pytest.raises(ValueError, match="version"):
        m.SerializationContext(version="")


def test_code_bundle_needs_a_tgz_or_pkl():
    with pytest.raises(ValueError, match="tgz or a pkl"):
        m.CodeBundle(computed_version="v")
    b = m.CodeBundle(computed_version="v", tgz="s3://b/x.tgz")
    assert b.with_downloaded_path(Path("/tmp/x")).downloaded_path == Path("/tmp/x")


def test_frozen_dict_is_read_only_hashable_and_picklable():
    d = m.FrozenDict({"a": "1"})
    with pytest.raises(TypeError):
        d["b"] = "2"  # type: ignore[index]
    assert hash(d) == hash(m.FrozenDict({"a": "1"}))
    assert pickle.loads(pickle.dumps(d)) == {"a": "1"}
