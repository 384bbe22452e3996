import pytest

from tools import build_wheels, check_isolation

pytestmark = pytest.mark.slow


def test_remote_and_a_plugin_install_alone_from_our_wheels_with_the_index_in_reach(tmp_path, capfd):
    # The package index offers the public flyteplugins-dask 2.x; the install must still be ours.
    dist = tmp_path / "dist"
    assert build_wheels.main(["--out", str(dist)]) == 0
    assert check_isolation.main(["--dist", str(dist), "--only", "flyte-remote", "flyteplugins-dask"]) == 0
    out = capfd.readouterr().out
    assert "isolation: 0 problem(s)" in out
    assert "ours: flyte-models, flyte-remote, flyte-storage, flyte-types\n" in out
    dask_line = next(line for line in out.splitlines() if line.startswith("    ours: flyte-extend"))
    assert "flyteplugins-dask" in dask_line
    assert "flyte-cli" not in dask_line
    assert "flyte-server" not in dask_line


def test_a_foreign_version_of_one_of_ours_is_reported():
    from tools.workspace import ROOT, Workspace

    ws = Workspace(ROOT)
    closure = check_isolation.Closure(
        target="flyteplugins-spark",
        installed={"flyteplugins-spark": "2.12.1", "flyte-extend": ws["flyte-extend"].version, "flyte-cli": "0.1.0"},
        megabytes=1.0,
        seconds=1.0,
    )
    wheels = {name: ROOT / "dist" / f"{name}.whl" for name in ws.dists}
    problems = check_isolation.problems_of(ws, closure, wheels)
    assert any("installed flyteplugins-spark 2.12.1, not ours" in p for p in problems)
    assert any("flyteplugins-spark pulls flyte-cli; a plugin may only depend on flyte-extend" in p for p in problems)
