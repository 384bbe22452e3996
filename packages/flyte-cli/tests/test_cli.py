import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from flyte.cli._main import cli

CONFIG = "admin:\n  endpoint: localhost:8090\n  insecure: true\ntask:\n  project: demo\n  domain: development\n"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for var in ("FLYTE_ADMIN_ENDPOINT", "FLYTE_ADMIN_INSECURE", "FLYTE_TASK_PROJECT", "FLYTECTL_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def flyte(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a subprocess: exit codes and stderr as a user sees them."""
    code = "import sys; from flyte.cli._main import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)


def test_help_lists_the_verbs_without_importing_them():
    code = (
        "import sys\nfrom flyte.cli._main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    status = e.code\n"
        "heavy = [m for m in ('flyte.cli._get', 'flyte.cli._create', 'flyte.config', 'yaml', 'grpc', 'rich',"
        " 'flyte.runtime', 'flyte.remote', 'importlib.metadata')"
        " if m in sys.modules]\n"
        "print('STATUS', status, 'HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert re.search(r"create +Create a resource", out)
    assert re.search(r"get +Show a resource", out)
    assert re.search(r"deploy +Deploy", out)
    assert out.strip().endswith("STATUS 0 HEAVY []")


def test_get_config_shows_the_file_and_its_settings(tmp_path):
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = CliRunner().invoke(cli, ["get", "config"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[1:]}
    assert lines["source"] == str(tmp_path / "config.yaml")
    assert lines["admin.endpoint"] == "localhost:8090"
    assert lines["task.project"] == "demo"


def test_get_config_as_json_with_overrides_in_precedence_order(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text(CONFIG)
    monkeypatch.setenv("FLYTE_TASK_PROJECT", "from-env")
    result = CliRunner().invoke(cli, ["-of", "json", "--endpoint", "other:9000", "--secure", "get", "config"])
    assert result.exit_code == 0, result.output
    (data,) = json.loads(result.output)
    assert data["admin.endpoint"] == "other:9000"  # flag beats file
    assert data["admin.insecure"] is False  # --secure beats the file's insecure: true
    assert data["task.project"] == "from-env"  # variable beats file
    assert data["task.domain"] == "development"


def test_create_config_writes_a_file_that_get_config_reads(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["create", "config", "--endpoint", "localhost:8090", "--insecure", "--project", "p"])
    assert result.exit_code == 0, result.output
    written = tmp_path / ".flyte" / "config.yaml"
    assert written.is_file()
    data = json.loads(runner.invoke(cli, ["-of", "json", "get", "config"]).output)[0]
    assert (data["source"], data["admin.endpoint"], data["admin.insecure"], data["task.project"]) == (
        str(written),
        "localhost:8090",
        True,
        "p",
    )


def test_create_config_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "c.yaml"
    target.write_text("keep: me\n")
    result = CliRunner().invoke(cli, ["create", "config", "--project", "p", "-o", str(target)])
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.output
    assert target.read_text() == "keep: me\n"
    forced = CliRunner().invoke(cli, ["create", "config", "--project", "p", "-o", str(target), "--force"])
    assert forced.exit_code == 0
    assert "project: p" in target.read_text()


def test_create_config_into_a_directory_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["create", "config", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_a_broken_config_file_is_one_clear_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("admin:\n  insecure: perhaps\n")
    result = flyte("-c", str(bad), "get", "config")
    assert result.returncode == 1
    assert f"Error: config file {bad}: admin.insecure is 'perhaps'; expected true or false" in result.stderr
    assert "Traceback" not in result.stderr


def test_verbose_shows_the_traceback(tmp_path):
    result = flyte("-v", "-c", str(tmp_path / "missing.yaml"), "get", "config")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "missing.yaml does not exist" in result.stderr


def test_an_unknown_command_exits_2_naming_it():
    result = flyte("launch")
    assert result.returncode == 2
    assert "No such command 'launch'" in result.stderr


def test_version_and_help_exit_0():
    assert flyte("--version").returncode == 0
    assert flyte("get", "--help").returncode == 0


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "flyte"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "verb-noun" in result.stdout


def test_deploy_dry_run_needs_no_backend(tmp_path):
    # No endpoint anywhere (the fixture clears env and HOME): a dry run still builds every spec,
    # and starts no server, since it contacts none.
    project = tmp_path / "proj"
    project.mkdir()
    (project / "wf.py").write_text(
        "from flyte.runtime import TaskEnvironment\nenv = TaskEnvironment('dry')\n\n"
        "@env.task\ndef double(x: int) -> int:\n    return 2 * x\n"
    )
    result = flyte("-of", "json", "deploy", "--dry-run", "--version", "v1", str(project / "wf.py"), "dry")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["task"], r["version"]) for r in rows] == [("dry.double", "v1")]
    assert not (tmp_path / "home" / ".flyte" / "server").exists()
