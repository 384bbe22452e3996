from datetime import timedelta

import pytest
from flyteidl2.core import interface_pb2, types_pb2
from flyteidl2.task import common_pb2

import flyte.models as m


def interface() -> interface_pb2.TypedInterface:
    int_type = types_pb2.LiteralType(simple=types_pb2.SimpleType.INTEGER)
    return interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(variables=[{"key": "x", "value": {"type": int_type}}]),
        outputs=interface_pb2.VariableMap(variables=[{"key": "o0", "value": {"type": int_type}}]),
    )


def full_spec(**overrides) -> m.TaskSpec:
    fields = {
        "interface": interface(),
        "image": "ghcr.io/org/app:v1",
        "args": ("a0", "--inputs", "{{.input}}"),
        "resources": m.Resources(cpu=("1", "2"), memory="2Gi", gpu=m.GPU("A100", 1, "1g.5gb"), shm="auto"),
        "retries": m.RetryStrategy(3, backoff=m.Backoff(base=timedelta(seconds=1), factor=2.0)),
        "timeout": m.Timeout(max_runtime=300, max_queued_time=60, deadline=3600),
        "cache": m.Cache("auto", serialize=True, ignored_inputs=("verbose",), max_age=timedelta(days=1)),
        "cache_version": "body-hash",
        "secrets": ["api-key", m.Secret("token", group="gh")],
        "env_vars": {"A": "1"},
        "config": {"k": "v"},
        "custom": {"workers": 2.0, "nested": {"a": [1.0, "b"]}},
        "reuse_policy": m.ReusePolicy(replicas=(1, 2)),
        "interruptible": True,
        "debuggable": True,
        "report": True,
        "docs": m.Documentation("Squares x."),
        "short_name": "square",
        "environment": "env",
        "default_inputs": (common_pb2.NamedParameter(name="x"),),
        "runtime_version": "0.1.0",
    }
    fields.update(overrides)
    return m.TaskSpec(m.TaskID("env.square", "v1", "p", "d", "o"), **fields)


def test_every_setting_survives_a_proto_round_trip():
    spec = full_spec()
    pb = spec.to_proto()
    back = m.TaskSpec.from_proto(pb)
    assert back.to_proto() == pb
    # The model too, except what the wire cannot tell apart (documented on from_proto).
    assert back == full_spec(secrets=(m.Secret("api-key"), m.Secret("token", group="gh")))


def test_settings_land_in_the_template_fields_the_backend_reads():
    tt = full_spec().to_template()
    md = tt.metadata
    assert (md.discoverable, md.discovery_version, md.cache_serializable) == (True, "body-hash", True)
    assert list(md.cache_ignore_input_vars) == ["verbose"]
    assert md.cache_max_age.ToTimedelta() == timedelta(days=1)
    assert (md.retries.retries, md.timeout.seconds, md.timeouts.deadline.seconds) == (3, 300, 3600)
    assert (md.interruptible, md.debuggable, md.generates_deck.value) == (True, True, True)
    assert (md.runtime.version, md.runtime.flavor) == ("0.1.0", "python")
    assert [(s.key, s.env_var) for s in tt.security_context.secrets] == [("api-key", "API_KEY"), ("token", "GH_TOKEN")]
    assert [(kv.key, kv.value) for kv in tt.container.env] == [("A", "1")]
    assert tt.container.image == "ghcr.io/org/app:v1"
    assert tt.extended_resources.gpu_accelerator.partition_size == "1g.5gb"
    assert dict(tt.config) == {"k": "v"}
    assert tt.custom["workers"] == 2.0
    assert tt.reuse_policy.max_replicas == 2


def test_disabled_cache_still_sends_the_code_version():
    md = full_spec(cache="disable").to_template().metadata
    assert (md.discoverable, md.discovery_version, list(md.cache_ignore_input_vars)) == (False, "body-hash", [])


def test_shorthands_normalise():
    spec = m.TaskSpec(m.TaskID("t"), retries=2, timeout=90, cache="auto", secrets="k")
    assert spec.retries == m.RetryStrategy(2)
    assert spec.timeout == m.Timeout(max_runtime=timedelta(seconds=90))
    assert spec.cache == m.Cache("auto")
    assert spec.secrets == (m.Secret("k"),)


def test_version_override_becomes_the_cache_version():
    spec = m.TaskSpec(m.TaskID("t"), cache=m.Cache("override", version_override="v7"))
    assert spec.cache_version == "v7"
    assert spec.to_template().metadata.discovery_version == "v7"


def test_pod_template_replaces_the_plain_container():
    pod = m.PodTemplate(pod_spec={"containers": [{"name": "main"}]}, primary_container_name="main")
    spec = full_spec(pod_template=pod)
    tt = spec.to_template()
    assert tt.WhichOneof("target") == "k8s_pod"
    assert tt.k8s_pod.primary_container_name == "main"
    back = m.TaskSpec.from_proto(spec.to_proto())
    assert (back.image, back.args, dict(back.env_vars or {})) == (spec.image, spec.args, {"A": "1"})
    assert back.to_proto() == spec.to_proto()


def test_spec_is_immutable_including_its_mappings_and_protos():
    iface = interface()
    spec = full_spec(interface=iface)
    iface.inputs.variables.add(key="y")
    assert [v.key for v in spec.to_template().interface.inputs.variables] == ["x"]
    with pytest.raises(AttributeError):
        spec.image = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.env_vars["B"] = "2"  # type: ignore[index]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"retries": -1}, "count"),
        ({"retries": "3"}, "retries"),
        ({"timeout": "1h"}, "timeout"),
        ({"cache": 5}, "cache"),
        ({"env_vars": {"A": 1}}, "env_vars"),
        ({"args": "a0 --x"}, "args"),
        ({"secrets": [3]}, "secrets"),
        ({"triggers": (m.Trigger("t"), m.Trigger("t"))}, "distinct"),
    ],
)
def test_bad_settings_name_the_field(overrides, words):
    with pytest.raises((TypeError, ValueError), match=words):
        full_spec(**overrides)
