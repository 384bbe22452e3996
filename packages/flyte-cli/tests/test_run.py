"""`flyte run --local FILE TASK --<input> VALUE`: the real console entry point in a subprocess."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TASKS = textwrap.dedent(
    """
    import asyncio
    import enum
    from dataclasses import dataclass
    from flyte.io import File
    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("clitest")

    class Color(enum.Enum):
        RED = "red"
        BLUE = "blue"

    @dataclass
    class Point:
        x: int
        y: float

    @env.task
    async def shout(word: str, times: int = 2, loud: bool = False) -> str:
        '''Repeat a word.'''
        out = " ".join([word] * times)
        return out.upper() if loud else out

    @env.task
    def structured(p: Point, tags: list[str], weights: dict[str, float], color: Color = Color.RED) -> str:
        return f"{p.x},{p.y}|{'/'.join(tags)}|{sorted(weights.items())}|{color.value}"

    @env.task
    async def head(f: File, lines: int = 1) -> str:
        async with f.open("r") as fh:
            return "|".join((await fh.read()).splitlines()[:lines])

    @env.task
    async def fails() -> int:
        raise ValueError("bad luck")
    """
)


@pytest.fixture
def tasks_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FLYTE_LOCAL_CACHE", str(tmp_path / "cache.sqlite"))
    path = tmp_path / "clitasks.py"
    path.write_text(TASKS)
    return path


def flyte(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flyte.cli._main import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)


def test_inputs_come_from_the_signature_with_defaults(tasks_file):
    result = flyte("run", "--local", str(tasks_file), "shout", "--word", "hey")
    assert result.returncode == 0, result.stderr
    assert "o0: 'hey hey'" in result.stdout
    assert "succeeded" in result.stdout


def test_booleans_are_flags(tasks_file):
    result = flyte("run", "--local", str(tasks_file), "shout", "--word", "hey", "--times", "1", "--loud")
    assert "o0: 'HEY'" in result.stdout


def test_structured_inputs_are_json_and_enums_are_names(tasks_file):
    result = flyte(
        "run",
        "--local",
        str(tasks_file),
        "structured",
        "--p",
        '{"x": 1, "y": 2.5}',
        "--tags",
        '["a", "b"]',
        "--weights",
        '{"w": 1}',
        "--color",
        "BLUE",
    )
    assert result.returncode == 0, result.stderr
    assert "o0: \"1,2.5|a/b|[('w', 1.0)]|blue\"" in result.stdout


def test_task_help_shows_inputs_types_and_defaults(tasks_file):
    result = flyte("run", "--local", str(tasks_file), "shout", "--help")
    assert result.returncode == 0
    assert "Repeat a word." in result.stdout
    assert "--times INTEGER" in result.stdout
    assert "[default: 2]" in result.stdout
    assert "--loud / --no-loud" in result.stdout


def test_file_help_lists_its_tasks(tasks_file):
    result = flyte("run", "--local", str(tasks_file), "--help")
    for name in ("shout", "structured", "fails"):
        assert name in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shout"], "Missing option '--word'"),
        (["shout", "--word", "x", "--times", "many"], "'--times': 'many' is not a valid integer; example: --times 3"),
        (["shout", "--word", "x", "--volume", "11"], "No such option '--volume'"),
        (["structured", "--p", '{"x": 1}', "--tags", "[]", "--weights", "{}"], "is not a valid Point"),
        (["structured", "--p", "not json", "--tags", "[]", "--weights", "{}"], 'example: --p \'{"x": ..., "y": ...}\''),
        (["structured", "--p", '{"x": 1, "y": 1}', "--tags", "[]", "--weights", "{}", "--color", "GREEN"], "GREEN"),
        (["nope"], "no task 'nope' in"),
    ],
)
def test_bad_inputs_exit_2_naming_the_input(tasks_file, args, message):
    result = flyte("run", "--local", str(tasks_file), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_named(tmp_path):
    result = flyte("run", "--local", str(tmp_path / "absent.py"), "main")
    assert result.returncode == 2
    assert "absent.py does not exist" in result.stderr


def test_a_file_that_fails_to_import_is_one_error_line(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import nonexistent_module_xyz\n")
    result = flyte("run", "--local", str(broken), "main")
    assert result.returncode == 1
    assert "importing" in result.stderr
    assert "nonexistent_module_xyz" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failing_task_exits_1_with_its_error(tasks_file):
    result = flyte("run", "--local", str(tasks_file), "fails")
    assert result.returncode == 1
    assert "Error: bad luck" in result.stderr


def test_run_options_name_env_and_labels(tasks_file, tmp_path):
    result = flyte("run", "--local", "--name", "my-run", "-e", "A=1", str(tasks_file), "shout", "--word", "w")
    assert result.returncode == 0, result.stderr
    assert "Run my-run succeeded" in result.stdout
    bad = flyte("run", "--local", "-e", "novalue", str(tasks_file), "shout", "--word", "w")
    assert bad.returncode == 2
    assert "'novalue' is not KEY=VALUE" in bad.stderr


def test_build_names_an_unknown_environment(tmp_path):
    (tmp_path / "envs.py").write_text(
        "from flyte.runtime import TaskEnvironment\n"
        "first = TaskEnvironment('first')\n"
        "second = TaskEnvironment('second')\n"
    )
    result = flyte("build", str(tmp_path / "envs.py"), "third")
    assert result.returncode == 2
    assert "no environment 'third'" in result.stderr
    assert "first, second" in result.stderr


def test_build_of_a_file_without_environments_says_so(tmp_path):
    (tmp_path / "plain.py").write_text("x = 1\n")
    result = flyte("build", str(tmp_path / "plain.py"))
    assert result.returncode == 2
    assert "defines no TaskEnvironment" in result.stderr


def test_build_without_a_docker_engine_names_the_engine(tmp_path, monkeypatch):
    (tmp_path / "envs.py").write_text(
        "from flyte.imagebuild import Image\n"
        "from flyte.runtime import TaskEnvironment\n"
        "env = TaskEnvironment('env', image=Image.from_debian_base(install_flyte=False, name='clitest'))\n"
    )
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("HOME", str(tmp_path))  # no local build record to find the image in
    result = flyte("build", str(tmp_path / "envs.py"), "env")
    assert result.returncode == 1
    assert "cannot reach the Docker engine" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_input_is_a_local_path(tasks_file, tmp_path):
    (tmp_path / "poem.txt").write_text("roses\nviolets\nsugar\n")
    result = flyte("run", "--local", str(tasks_file), "head", "--f", str(tmp_path / "poem.txt"), "--lines", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "o0: 'roses|violets'"


def test_a_missing_file_input_names_the_input_and_gives_an_example(tasks_file, tmp_path):
    result = flyte("run", "--local", str(tasks_file), "head", "--f", str(tmp_path / "nope.txt"))
    assert result.returncode == 2
    assert "Invalid value for '--f'" in result.stderr
    assert "nope.txt' is not an existing file; example: --f ./data.csv (or a URI)" in result.stderr


def test_a_dataframe_input_is_a_parquet_path(tmp_path, monkeypatch):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(tmp_path / "frame.parquet")
    tasks = tmp_path / "frames.py"
    tasks.write_text(
        "import pandas as pd\nfrom flyte.io import DataFrame\nfrom flyte.runtime import TaskEnvironment\n"
        "env = TaskEnvironment('frames')\n"
        "@env.task\nasync def rows(df: DataFrame) -> int:\n    return len(await df.open(pd.DataFrame).all())\n"
    )
    result = flyte("run", "--local", str(tasks), "rows", "--df", str(tmp_path / "frame.parquet"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "o0: 3"
