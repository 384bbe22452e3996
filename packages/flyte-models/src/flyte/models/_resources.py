"""Compute resources a task asks for, and their flyteidl2 form (``core.Resources`` + ``ExtendedResources``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, get_args

from flyte.models._quantity import parse_quantity

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2

DeviceClass = Literal["GPU", "TPU", "NEURON", "AMD_GPU", "HABANA_GAUDI", "APPLE_SILICON"]
_DEVICE_CLASSES: tuple[str, ...] = get_args(DeviceClass)

GPUType = Literal[
    "A2", "A10", "A10G", "A100", "A100_80G", "B200", "H100", "H200", "L4", "L40s", "T4", "V100",
    "RTX_PRO_4500", "RTX_PRO_6000", "GB10", "T4 shared", "L4 shared", "A10G shared", "A10 shared", "L40S shared",
]  # fmt: skip
TPUType = Literal["V5E", "V5P", "V6E"]
AMDGPUType = Literal["MI100", "MI210", "MI250", "MI250X", "MI300A", "MI300X", "MI325X", "MI350X", "MI355X"]
NeuronType = Literal["Inf1", "Inf2", "Trn1", "Trn1n", "Trn2", "Trn2u"]
HabanaGaudiType = Literal["Gaudi1"]

_MIG_A100 = ("1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb")
_MIG_80GB = ("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb")
_MIG_H100 = ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb")
_MIG_H200 = ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb")
_MIG_RTX_PRO_6000 = ("1g.24gb", "2g.48gb", "4g.96gb")
_TPU_2D = ("1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16")
_TPU_3D = ("2x2x1", "2x2x2", "2x4x4", "4x4x4", "4x4x8", "4x8x8", "8x8x8", "8x8x16", "8x16x16", "16x16x16", "16x16x24")

# Short device name -> (node label value the backend schedules on, allowed partitions or None for any).
# The label values are what flyte 2.12.1 sends, so a cluster configured for it places our tasks alike.
_NVIDIA: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "A2": ("A2", None),
    "A10": ("nvidia-a10", None),
    "A10G": ("nvidia-a10g", None),
    "A100": ("nvidia-tesla-a100", _MIG_A100),
    "A100_80G": ("nvidia-a100-80gb", _MIG_80GB),
    "B200": ("B200", None),
    "H100": ("nvidia-tesla-h100", _MIG_H100),
    "H200": ("H200", _MIG_H200),
    "L4": ("nvidia-l4", None),
    "L40s": ("nvidia-l40s", None),
    "T4": ("nvidia-tesla-t4", None),
    "V100": ("nvidia-tesla-v100", None),
    "RTX_PRO_4500": ("nvidia-rtx-pro-4500", None),
    "RTX_PRO_6000": ("nvidia-rtx-pro-6000", _MIG_RTX_PRO_6000),
    "GB10": ("GB10", None),
    # Time-sliced GPUs: a share of one card, so no MIG partition on top.
    "T4 shared": ("T4 shared", ()),
    "L4 shared": ("L4 shared", ()),
    "A10G shared": ("A10G shared", ()),
    "A10 shared": ("A10 shared", ()),
    "L40S shared": ("L40S shared", ()),
}
_TPU: dict[str, tuple[str, tuple[str, ...]]] = {
    "V5E": ("tpu-v5-lite-podslice", _TPU_2D),
    "V5P": ("tpu-v5p-slice", _TPU_3D),
    "V6E": ("tpu-v6e-slice", _TPU_2D),
}
_APPLE_SILICON = "AppleSilicon"
# The device class of each short name that `Resources(gpu="NAME:N")` accepts besides NVIDIA's.
_OTHER_CLASSES: dict[str, DeviceClass] = {
    **dict.fromkeys(get_args(AMDGPUType), "AMD_GPU"),
    **dict.fromkeys(get_args(NeuronType), "NEURON"),
    **dict.fromkeys(get_args(HabanaGaudiType), "HABANA_GAUDI"),
    _APPLE_SILICON: "APPLE_SILICON",
}
# flyteidl2 GPUAccelerator.DeviceClass numbers. Apple silicon (5) is newer than flyteidl2 2.0.51's
# enum; protobuf keeps unknown enum numbers, and 2.12.1 sends 5, so we do too.
_CLASS_TO_PROTO: dict[str, int] = {"GPU": 0, "TPU": 1, "NEURON": 2, "AMD_GPU": 3, "HABANA_GAUDI": 4, "APPLE_SILICON": 5}
_PROTO_TO_CLASS = {v: k for k, v in _CLASS_TO_PROTO.items()}
_LABEL_TO_NVIDIA = {label: short for short, (label, _) in _NVIDIA.items()}
_LABEL_TO_TPU = {label: short for short, (label, _) in _TPU.items()}

SHM_MOUNT_PATH = "/dev/shm"
SHM_MOUNT_NAME = "flyte-shm"


def _check_int(value: object, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{field} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Device:
    """An accelerator request: how many, of which class, which model, which partition.

    Build it with :func:`GPU`, :func:`TPU`, :func:`AMD_GPU`, :func:`Neuron`, :func:`HABANA_GAUDI`
    or :func:`APPLE_SILICON` rather than by hand.
    """

    quantity: int
    device_class: DeviceClass
    device: str | None = None
    partition: str | None = None

    def __post_init__(self) -> None:
        _check_int(self.quantity, "Device.quantity", 1)
        if self.device_class not in _DEVICE_CLASSES:
            raise ValueError(
                f"Device.device_class must be one of {', '.join(_DEVICE_CLASSES)}; got {self.device_class!r}"
            )


def GPU(device: GPUType, quantity: int, partition: str | None = None) -> Device:
    """``quantity`` NVIDIA GPUs of model ``device``, optionally a MIG ``partition`` such as ``"1g.5gb"``.

    Example:
        >>> GPU("A100", 2)
        Device(quantity=2, device_class='GPU', device='A100', partition=None)
    """
    if device not in _NVIDIA:
        raise ValueError(f"GPU device must be one of {', '.join(_NVIDIA)}; got {device!r}")
    _check_int(quantity, "GPU quantity", 1)
    allowed = _NVIDIA[device][1]
    if partition is not None and allowed is not None:
        if not allowed:
            raise ValueError(f"{device} is a shared GPU and takes no partition, got {partition!r}")
        if partition not in allowed:
            raise ValueError(f"GPU partition for {device} must be one of {', '.join(allowed)}; got {partition!r}")
    return Device(quantity, "GPU", device, partition)


def TPU(device: TPUType, partition: str | None = None) -> Device:
    """A Google TPU slice, e.g. ``TPU("V5P", "2x2x1")``."""
    if device not in _TPU:
        raise ValueError(f"TPU device must be one of {', '.join(_TPU)}; got {device!r}")
    allowed = _TPU[device][1]
    if partition is not None and partition not in allowed:
        raise ValueError(
            f"TPU partition (topology) for {device} must be one of {', '.join(allowed)}; got {partition!r}"
        )
    return Device(1, "TPU", device, partition)


def _single(device: str, device_class: DeviceClass, names: tuple[str, ...], helper: str) -> Device:
    if device not in names:
        raise ValueError(f"{helper} device must be one of {', '.join(names)}; got {device!r}")
    return Device(1, device_class, device)


def AMD_GPU(device: AMDGPUType) -> Device:
    """One AMD Instinct GPU, e.g. ``AMD_GPU("MI300X")``."""
    return _single(device, "AMD_GPU", get_args(AMDGPUType), "AMD_GPU")


def Neuron(device: NeuronType) -> Device:
    """One AWS Inferentia / Trainium device, e.g. ``Neuron("Trn2")``."""
    return _single(device, "NEURON", get_args(NeuronType), "Neuron")


def HABANA_GAUDI(device: HabanaGaudiType) -> Device:
    """One Intel Habana Gaudi accelerator."""
    return _single(device, "HABANA_GAUDI", get_args(HabanaGaudiType), "HABANA_GAUDI")


def APPLE_SILICON() -> Device:
    """The Apple silicon GPU of the machine the task runs on."""
    return Device(1, "APPLE_SILICON", _APPLE_SILICON)


CPUBaseType = int | float | str
CPUType = CPUBaseType | tuple[CPUBaseType, CPUBaseType]
MemoryType = str | tuple[str, str]
GPUSpec = str | int | Device

_CPU_FORMS = "a number of cores (1, 0.5), a quantity string ('500m', '2'), or a (request, limit) tuple of those"
_MEM_FORMS = "a Kubernetes quantity string ('512Mi', '2Gi', '1G'), or a (request, limit) tuple of those"
_GPU_FORMS = "an int count, 'MODEL:COUNT' such as 'A100:2', or a Device from GPU(...)/TPU(...)"


def _cpu_value(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{field} must be {_CPU_FORMS}; got {value!r}")
    amount = parse_quantity(value) if isinstance(value, str) else Decimal(str(value))
    if amount is None:
        raise ValueError(f"{field} must be {_CPU_FORMS}; got {value!r}")
    if amount < 0:
        raise ValueError(f"{field} must not be negative, got {value!r}")
    return amount


def _quantity_value(value: object, field: str) -> Decimal:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be {_MEM_FORMS}; got {type(value).__name__} {value!r}")
    amount = parse_quantity(value)
    if amount is None:
        raise ValueError(f"{field} must be {_MEM_FORMS}; got {value!r}")
    return amount


def _check_pair(value: object, field: str) -> None:
    parse = _cpu_value if field == "cpu" else _quantity_value
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{field} as a tuple must be (request, limit), got {len(value)} elements: {value!r}")
        request, limit = parse(value[0], f"{field} request"), parse(value[1], f"{field} limit")
        if limit < request:
            raise ValueError(f"{field} limit ({value[1]!r}) must not be less than its request ({value[0]!r})")
    else:
        parse(value, field)


def _parse_gpu_string(value: str) -> Device:
    name, sep, count = value.partition(":")
    if name == _APPLE_SILICON and not sep:
        return APPLE_SILICON()
    if not sep or not count.isdigit() or int(count) < 1:
        raise ValueError(f"gpu must be {_GPU_FORMS}; got {value!r}")
    quantity = int(count)
    if name in _NVIDIA:
        return Device(quantity, "GPU", name)
    if name in _OTHER_CLASSES:
        return Device(quantity, _OTHER_CLASSES[name], name)
    known = ", ".join([*_NVIDIA, *_OTHER_CLASSES])
    raise ValueError(f"gpu {value!r} names an unknown device {name!r}; known devices: {known}")


@dataclass(frozen=True)
class Resources:
    """What a task's container asks for.

    Args:
        cpu: cores as a number or quantity string, or a ``(request, limit)`` tuple.
        memory: a quantity string such as ``"2Gi"``, or a ``(request, limit)`` tuple.
        gpu: a count, ``"MODEL:COUNT"`` (``"A100:2"``, ``"Trn1:4"``) or a :class:`Device`.
        disk: ephemeral storage, a quantity string.
        shm: shared memory size (a quantity string), or ``"auto"`` to mount ``/dev/shm`` unbounded.

    Example:
        >>> Resources(cpu=(1, 2), memory="4Gi", gpu="A100:1").cpu
        (1, 2)
    """

    cpu: CPUType | None = None
    memory: MemoryType | None = None
    gpu: GPUSpec | None = None
    disk: str | None = None
    shm: str | Literal["auto"] | None = None

    def __post_init__(self) -> None:
        if self.cpu is not None:
            _check_pair(self.cpu, "cpu")
        if self.memory is not None:
            _check_pair(self.memory, "memory")
        if self.disk is not None:
            _quantity_value(self.disk, "disk")
        if self.shm is not None and self.shm != "auto":
            _quantity_value(self.shm, "shm")
        for name in ("cpu", "memory"):
            value: object = getattr(self, name)
            if isinstance(value, list):  # accept a list, store the immutable form
                object.__setattr__(self, name, tuple(value))
        self.device  # validates gpu  # noqa: B018

    @property
    def device(self) -> Device | None:
        """The accelerator request as a :class:`Device`, or None for none or a bare count."""
        gpu = self.gpu
        if gpu is None or isinstance(gpu, Device):
            return gpu
        if isinstance(gpu, bool) or not isinstance(gpu, (int, str)):
            raise TypeError(f"gpu must be {_GPU_FORMS}; got {gpu!r}")
        if isinstance(gpu, int):
            if gpu < 0:
                raise ValueError(f"gpu count must not be negative, got {gpu}")
            return None
        return _parse_gpu_string(gpu)

    @property
    def gpu_count(self) -> int:
        """How many accelerators: 0 when none are asked for."""
        if isinstance(self.gpu, int):
            return self.gpu
        device = self.device
        return device.quantity if device else 0

    def to_proto(self) -> tasks_pb2.Resources | None:
        """Requests and limits (``core.Resources``); None when nothing is asked for."""
        from flyteidl2.core import tasks_pb2

        entry = tasks_pb2.Resources.ResourceEntry
        names = tasks_pb2.Resources
        requests: list[tasks_pb2.Resources.ResourceEntry] = []
        limits: list[tasks_pb2.Resources.ResourceEntry] = []
        for value, name in ((self.cpu, names.CPU), (self.memory, names.MEMORY)):
            if isinstance(value, tuple):
                requests.append(entry(name=name, value=str(value[0])))
                limits.append(entry(name=name, value=str(value[1])))
            elif value is not None:
                requests.append(entry(name=name, value=str(value)))
        if self.gpu is not None:
            # Like flyte 2.12.1: the accelerator count is a request only; the backend sets the limit.
            requests.append(entry(name=names.GPU, value=str(self.gpu_count)))
        if self.disk is not None:
            requests.append(entry(name=names.EPHEMERAL_STORAGE, value=self.disk))
        if not requests and not limits:
            return None
        return tasks_pb2.Resources(requests=requests, limits=limits)

    def to_extended_proto(self) -> tasks_pb2.ExtendedResources | None:
        """Accelerator model/partition and shared memory (``ExtendedResources``); None when neither is set."""
        from flyteidl2.core import tasks_pb2

        accelerator = None
        device = self.device
        if device is not None:
            accelerator = tasks_pb2.GPUAccelerator(
                device=_device_label(device),
                device_class=_CLASS_TO_PROTO[device.device_class],  # type: ignore[arg-type]  # 5 is not in the stubs
            )
            # partition_size is a oneof member: setting it, even to "", marks the GPU as partitioned.
            if device.partition is not None:
                accelerator.partition_size = device.partition
        shm = None
        if self.shm is not None:
            shm = tasks_pb2.SharedMemory(
                mount_path=SHM_MOUNT_PATH,
                mount_name=SHM_MOUNT_NAME,
                size_limit="" if self.shm == "auto" else self.shm,
            )
        if accelerator is None and shm is None:
            return None
        return tasks_pb2.ExtendedResources(gpu_accelerator=accelerator, shared_memory=shm)

    @classmethod
    def from_proto(
        cls, resources: tasks_pb2.Resources | None, extended: tasks_pb2.ExtendedResources | None = None
    ) -> Resources | None:
        """Read back what :meth:`to_proto` and :meth:`to_extended_proto` wrote; None when both are empty.

        Quantities come back as strings (``cpu=1`` returns as ``"1"``): the proto keeps only text.
        """
        from flyteidl2.core import tasks_pb2

        names = tasks_pb2.Resources
        req: dict[int, str] = {e.name: e.value for e in resources.requests} if resources is not None else {}
        lim: dict[int, str] = {e.name: e.value for e in resources.limits} if resources is not None else {}

        def pair(name: int) -> str | tuple[str, str] | None:
            if name in req and name in lim:
                return (req[name], lim[name])
            return req.get(name, lim.get(name))

        count_text = req.get(names.GPU, lim.get(names.GPU))
        gpu: GPUSpec | None = int(count_text) if count_text is not None else None
        shm: str | None = None
        if extended is not None and extended.HasField("gpu_accelerator"):
            gpu = _device_from_proto(extended.gpu_accelerator, gpu if isinstance(gpu, int) else 1)
        if extended is not None and extended.HasField("shared_memory"):
            shm = extended.shared_memory.size_limit or "auto"
        out = cls(
            cpu=pair(names.CPU), memory=pair(names.MEMORY), gpu=gpu, disk=req.get(names.EPHEMERAL_STORAGE), shm=shm
        )
        return None if out == cls() else out


def _device_label(device: Device) -> str:
    name = device.device
    if name is None:
        return ""
    if device.device_class == "GPU" and name in _NVIDIA:
        return _NVIDIA[name][0]
    if device.device_class == "TPU" and name in _TPU:
        return _TPU[name][0]
    return name


def _device_from_proto(acc: tasks_pb2.GPUAccelerator, quantity: int) -> Device:
    device_class = _PROTO_TO_CLASS.get(acc.device_class)
    if device_class is None:
        raise ValueError(f"GPUAccelerator.device_class {acc.device_class} is not one this SDK knows")
    label = acc.device
    if device_class == "GPU":
        name = _LABEL_TO_NVIDIA.get(label, label)
    elif device_class == "TPU":
        name = _LABEL_TO_TPU.get(label, label)
    else:
        name = label
    return Device(max(quantity, 1), device_class, name or None, acc.partition_size or None)  # type: ignore[arg-type]
