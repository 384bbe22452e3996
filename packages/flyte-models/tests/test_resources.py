import pytest
from flyteidl2.core import tasks_pb2

import flyte.models as m


def entries(res):
    return [(tasks_pb2.Resources.ResourceName.Name(e.name), e.value) for e in res]


def test_tuples_become_request_and_limit():
    pb = m.Resources(cpu=(1, 2), memory=("1Gi", "2Gi")).to_proto()
    assert entries(pb.requests) == [("CPU", "1"), ("MEMORY", "1Gi")]
    assert entries(pb.limits) == [("CPU", "2"), ("MEMORY", "2Gi")]


def test_gpu_string_sets_count_and_accelerator_label():
    r = m.Resources(gpu="A100:2")
    assert entries(r.to_proto().requests) == [("GPU", "2")]
    acc = r.to_extended_proto().gpu_accelerator
    assert (acc.device, acc.device_class, acc.HasField("partition_size")) == ("nvidia-tesla-a100", 0, False)


def test_partition_and_device_class_reach_the_accelerator():
    acc = m.Resources(gpu=m.TPU("V5P", "2x2x1")).to_extended_proto().gpu_accelerator
    assert (acc.device, acc.partition_size, acc.device_class) == (
        "tpu-v5p-slice",
        "2x2x1",
        tasks_pb2.GPUAccelerator.GOOGLE_TPU,
    )


def test_shm_auto_mounts_without_a_size():
    shm = m.Resources(shm="auto").to_extended_proto().shared_memory
    assert (shm.mount_path, shm.mount_name, shm.size_limit) == ("/dev/shm", "flyte-shm", "")
    assert m.Resources(shm="1Gi").to_extended_proto().shared_memory.size_limit == "1Gi"


def test_empty_resources_serialize_to_nothing():
    assert m.Resources().to_proto() is None
    assert m.Resources().to_extended_proto() is None
    assert m.Resources.from_proto(None, None) is None


@pytest.mark.parametrize(
    "res",
    [
        m.Resources(cpu=("1", "2"), memory="2Gi", gpu=m.GPU("A100", 2, "1g.5gb"), disk="10Gi", shm="auto"),
        m.Resources(cpu="500m", gpu=3),
        m.Resources(gpu=m.Neuron("Trn2")),
        m.Resources(gpu=m.APPLE_SILICON()),
        m.Resources(gpu=m.AMD_GPU("MI300X"), shm="2Gi"),
    ],
)
def test_proto_round_trip_is_exact(res):
    pb, ext = res.to_proto(), res.to_extended_proto()
    back = m.Resources.from_proto(pb, ext)
    assert back is not None
    assert (back.to_proto(), back.to_extended_proto()) == (pb, ext)


def test_read_back_names_the_device_by_its_short_name():
    back = m.Resources.from_proto(*_both(m.Resources(gpu="H100:4")))
    assert back.gpu == m.Device(4, "GPU", "H100")


def _both(r):
    return r.to_proto(), r.to_extended_proto()


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"cpu": "two"}, "cpu", "'500m'"),
        ({"cpu": -1}, "cpu", "negative"),
        ({"cpu": True}, "cpu", "number of cores"),
        ({"cpu": (1,)}, "cpu", "(request, limit)"),
        ({"cpu": (2, 1)}, "cpu limit", "less than"),
        ({"memory": 1}, "memory", "quantity string"),
        ({"memory": "lots"}, "memory", "'2Gi'"),
        ({"memory": ("2Gi", "1Gi")}, "memory limit", "less than"),
        ({"disk": 5}, "disk", "quantity string"),
        ({"shm": "big"}, "shm", "quantity string"),
        ({"gpu": "Z100:1"}, "Z100", "known devices"),
        ({"gpu": "A100"}, "gpu", "'A100:2'"),
        ({"gpu": -1}, "gpu", "negative"),
        ({"gpu": 1.5}, "gpu", "Device"),
    ],
)
def test_bad_values_name_the_field_and_the_accepted_forms(kwargs, field, words):
    with pytest.raises((TypeError, ValueError)) as err:
        m.Resources(**kwargs)
    assert field in str(err.value)
    assert words in str(err.value)


def test_device_helpers_validate_models_and_partitions():
    with pytest.raises(ValueError, match=r"1g\.5gb"):
        m.GPU("A100", 1, "9g.99gb")
    with pytest.raises(ValueError, match="shared GPU"):
        m.GPU("T4 shared", 1, "1g.5gb")
    with pytest.raises(ValueError, match="must be one of"):
        m.GPU("Z100", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 1"):
        m.GPU("A100", 0)
    with pytest.raises(ValueError, match="2x2"):
        m.TPU("V5E", "2x2x1")
    with pytest.raises(ValueError, match="device_class"):
        m.Device(1, "XPU")  # type: ignore[arg-type]
    assert m.GPU("T4", 1, "any").partition == "any"  # models without a MIG table take any partition


def test_quantities_parse_with_every_suffix():
    from flyte.models._quantity import parse_quantity

    assert parse_quantity("500m") == parse_quantity("0.5")
    assert parse_quantity("1Ki") == 1024
    assert parse_quantity("1e3") == parse_quantity("1k")
    assert parse_quantity("1 Gi") is None


def test_resources_are_immutable_and_lists_become_tuples():
    r = m.Resources(cpu=[1, 2])  # type: ignore[arg-type]
    assert r.cpu == (1, 2)
    with pytest.raises(AttributeError):
        r.cpu = 3  # type: ignore[misc]
