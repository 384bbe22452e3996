import subprocess
import sys

import pytest

import flyte.models as m


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys; {code}; print(','.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip().split(",")


def test_importing_flyte_models_loads_no_model_module_and_no_protobuf():
    loaded = _loaded_after("import flyte.models, flyte.errors")
    assert [n for n in loaded if n.startswith("flyte.models.") and n != "flyte.models._version"] == []
    assert [n for n in loaded if n.split(".")[0] in ("google", "flyteidl2")] == []


def test_using_one_name_loads_only_its_module_and_still_no_protobuf():
    loaded = _loaded_after("from flyte.models import Resources; Resources(cpu=1)")
    assert "flyte.models._resources" in loaded
    assert "flyte.models._task_spec" not in loaded
    assert [n for n in loaded if n.split(".")[0] in ("google", "flyteidl2")] == []


def test_every_public_name_resolves():
    for name in m.__all__:
        assert getattr(m, name) is not None, name
    assert set(m.__all__) <= set(dir(m))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchModel"):
        getattr(m, "NoSuchModel")  # noqa: B009 - the name is the point
