"""What ``flyte.extend`` offers a plugin author, and that importing it is cheap."""

import subprocess
import sys

import flyte.extend as extend
from flyte.errors import RuntimeSystemError
from flyte.models import Resources
from flyte.runtime import AsyncFunctionTaskTemplate, TaskPluginRegistry


def test_every_public_name_resolves():
    missing = [name for name in extend.__all__ if getattr(extend, name, None) is None]
    assert missing == []


def test_names_are_the_owning_distributions_objects():
    assert extend.AsyncFunctionTaskTemplate is AsyncFunctionTaskTemplate
    assert extend.TaskPluginRegistry is TaskPluginRegistry
    assert extend.RuntimeSystemError is RuntimeSystemError
    assert extend.Resources is Resources


def test_type_engine_registration_is_offered():
    assert callable(extend.TypeEngine.register)
    assert isinstance(extend.TypeTransformer, type)


def test_resources_convert_to_the_forms_custom_configs_embed():
    proto = extend.get_proto_resources(Resources(cpu=(1, 2), memory="1Gi"))
    assert proto is not None
    assert [(e.name, e.value) for e in proto.requests] == [(proto.CPU, "1"), (proto.MEMORY, "1Gi")]
    assert [(e.name, e.value) for e in proto.limits] == [(proto.CPU, "2")]
    assert extend.get_proto_resources(None) is None
    extended = extend.get_proto_extended_resources(Resources(shm="auto"))
    assert extended is not None
    assert extended.HasField("shared_memory")


def test_importing_flyte_extend_loads_no_sibling():
    siblings = ("flyte.runtime", "flyte.models", "flyte.errors", "flyte.types", "flyte.storage", "flyte.remote")
    code = f"import sys, flyte.extend; print(sorted(m for m in sys.modules if m.startswith({siblings!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
