"""Ray configs: the RayJob they serialize to, and the bad ones refused before any Ray starts."""

from __future__ import annotations

import base64
import json
import socket

import pytest
import ray
import yaml
from flyteidl2.plugins import ray_pb2
from google.protobuf import json_format

from flyte.extend import PodTemplate, Resources, RuntimeUserError, SerializationContext
from flyte.runtime import TaskEnvironment, run
from flyteplugins.ray import (
    AutoscalerOptionsConfig,
    HeadNodeConfig,
    RayFunctionTask,
    RayJobConfig,
    WorkerNodeConfig,
    local_ray,
)

SCTX = SerializationContext(version="v1")
env = TaskEnvironment("ray-config-tests", plugin_config=RayJobConfig(worker_node_config=[]))


def nothing() -> int:
    return 1


def ray_job(config: RayJobConfig) -> ray_pb2.RayJob:
    task = env.task(nothing).override(plugin_config=config)
    assert isinstance(task, RayFunctionTask)
    return json_format.ParseDict(task.custom_config(SCTX), ray_pb2.RayJob())


def test_the_custom_config_is_a_ray_job_with_the_configured_values():
    job = ray_job(
        RayJobConfig(
            worker_node_config=[
                WorkerNodeConfig("cpu", replicas=3, ray_start_params={"num-cpus": "4"}, requests=Resources(cpu=4)),
                WorkerNodeConfig("gpu", replicas=1, requests=Resources(gpu="A100:1"), limits=Resources(memory="8Gi")),
            ],
            head_node_config=HeadNodeConfig(pod_template=PodTemplate(pod_spec={"nodeSelector": {"pool": "head"}})),
            autoscaler_options=AutoscalerOptionsConfig(
                upscaling_mode=AutoscalerOptionsConfig.UpscalingMode.CONSERVATIVE, idle_timeout_seconds=30
            ),
            runtime_env={"env_vars": {"MODE": "test"}},
        )
    )
    cpu, gpu = job.ray_cluster.worker_group_spec
    assert (cpu.group_name, cpu.replicas, dict(cpu.ray_start_params)) == ("cpu", 3, {"num-cpus": "4"})
    cpu_pod = json_format.MessageToDict(cpu.k8s_pod.pod_spec)
    assert cpu_pod["containers"] == [{"name": "ray-worker", "resources": {"requests": {"cpu": "4"}}}]
    gpu_pod = json_format.MessageToDict(gpu.k8s_pod.pod_spec)
    assert gpu_pod["containers"][0]["resources"]["limits"] == {"memory": "8Gi"}
    assert gpu.extended_resources.gpu_accelerator.device == "nvidia-tesla-a100"
    head_pod = json_format.MessageToDict(job.ray_cluster.head_group_spec.k8s_pod.pod_spec)
    assert head_pod["nodeSelector"] == {"pool": "head"}
    options = job.ray_cluster.autoscaler_options
    assert options.upscaling_mode == ray_pb2.AutoscalerOptions.UPSCALING_MODE_CONSERVATIVE
    assert options.idle_timeout_seconds == 30
    assert json.loads(base64.b64decode(job.runtime_env)) == {"env_vars": {"MODE": "test"}}
    assert yaml.safe_load(job.runtime_env_yaml) == {"env_vars": {"MODE": "test"}}


def test_upscaling_modes_are_the_idl_values():
    modes = AutoscalerOptionsConfig.UpscalingMode
    values = ray_pb2.AutoscalerOptions.UpscalingMode
    assert (
        values.Value("UPSCALING_MODE_UNSPECIFIED"),
        values.Value("UPSCALING_MODE_DEFAULT"),
        values.Value("UPSCALING_MODE_AGGRESSIVE"),
        values.Value("UPSCALING_MODE_CONSERVATIVE"),
    ) == (modes.UNSPECIFIED, modes.DEFAULT, modes.AGGRESSIVE, modes.CONSERVATIVE)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: WorkerNodeConfig("w", replicas=-1), ValueError, "replicas must not be negative"),
        (lambda: WorkerNodeConfig("w", replicas=2, min_replicas=3), ValueError, "min_replicas .3. exceeds"),
        (lambda: WorkerNodeConfig("w", replicas=2, max_replicas=1), ValueError, "max_replicas .1. is below"),
        (lambda: WorkerNodeConfig("", replicas=1), ValueError, "group_name must be a non-empty"),
        (lambda: WorkerNodeConfig("w", replicas=1, ray_start_params={"num-cpus": 2}), TypeError, "write '2'"),
        (lambda: RayJobConfig(worker_node_config=[WorkerNodeConfig("w", 1)] * 2), ValueError, "must be unique"),
        (lambda: RayJobConfig(worker_node_config=[], address=""), ValueError, "address must be a non-empty"),
        (lambda: AutoscalerOptionsConfig(upscaling_mode=9), ValueError, "UpscalingMode"),
    ],
)
def test_a_bad_config_is_refused_when_it_is_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_ray_address_that_does_not_answer_fails_before_ray_starts():
    address = f"127.0.0.1:{closed_port()}"
    task = env.task(nothing).override(plugin_config=RayJobConfig(worker_node_config=[], address=address))
    with pytest.raises(RuntimeUserError, match="does not answer") as info:
        run(task)
    assert info.value.code == "RayAddressUnreachable"
    assert address in str(info.value)
    assert not ray.is_initialized()
    assert not local_ray.running


def test_a_ray_address_from_the_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", f"ray://127.0.0.1:{closed_port()}")
    with pytest.raises(RuntimeUserError, match="does not answer"):
        run(env.task(nothing))
    assert not ray.is_initialized()


def test_a_bad_local_size_fails_before_ray_starts():
    config = RayJobConfig(worker_node_config=[], head_node_config=HeadNodeConfig(ray_start_params={"num-cpus": "x"}))
    with pytest.raises(RuntimeUserError, match=r"num-cpus.*positive integer"):
        run(env.task(nothing).override(plugin_config=config))
    assert not ray.is_initialized()
