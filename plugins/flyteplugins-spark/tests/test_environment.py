"""The plugin depends on flyte-extend alone among flyte distributions, and its own environment shows it."""

import sys
from importlib.metadata import distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

DIST, ENGINE = "flyteplugins-spark", "pyspark"
OWN_ENV = Path(sys.prefix).name == DIST and Path(sys.prefix).parent.name == ".venvs"


def test_flyte_extend_is_its_only_flyte_dependency():
    names = {Requirement(r).name for r in requires(DIST) or [] if "extra ==" not in r}
    assert {n for n in names if n.startswith("flyte") and n != "flyteidl2"} == {"flyte-extend"}
    assert ENGINE in names


@pytest.mark.skipif(not OWN_ENV, reason=f"checks .venvs/{DIST}: python3 tools/dev.py test -p {DIST}")
def test_its_own_environment_has_flyte_extend_and_the_engine_but_not_the_umbrella():
    installed = {d.metadata["Name"].lower().replace("_", "-") for d in distributions()}
    assert {"flyte-extend", ENGINE} <= installed
    assert "flyte" not in installed
