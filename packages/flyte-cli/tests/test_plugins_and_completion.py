"""Plugin commands from a real installed entry point, and shell completion, through the console entry point.

The plugin is a real distribution: a module plus its ``*.dist-info`` (METADATA and
entry_points.txt) in a folder on the subprocess's PYTHONPATH, exactly what an installer writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def flyte(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flyte.cli._main import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env or dict(os.environ)
    )


def install_plugin(site: Path, dist: str, module: str, source: str, entry_points: dict[str, str]) -> None:
    """A distribution ``dist`` providing ``module`` and commands in flyte.plugins.cli.commands."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[flyte.plugins.cli.commands]\n{lines}\n")
    (info / "RECORD").write_text("")


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    marker = tmp_path / "imported.txt"
    install_plugin(
        site,
        "flyte-hello-plugin",
        "flyte_hello_plugin",
        f"""
        import pathlib
        import click

        pathlib.Path({str(marker)!r}).write_text("imported")

        @click.command("hello")
        @click.option("--who", default="world")
        def hello(who):
            '''Say hello from a plugin.'''
            click.echo(f"hello {{who}} from a plugin")

        @click.command("get")
        def shadow():
            '''Tries to replace a built-in verb.'''
            click.echo("the plugin's get")

        not_a_command = 42
        """,
        {
            "hello": "flyte_hello_plugin:hello",
            "get": "flyte_hello_plugin:shadow",
            "broken": "flyte_hello_plugin:not_a_command",
        },
    )
    return {**os.environ, "PYTHONPATH": str(site), "HOME": str(tmp_path / "home")}


def test_a_plugin_command_runs(plugin_env):
    result = flyte("hello", "--who", "tests", env=plugin_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello tests from a plugin\n"


def test_plugin_commands_are_listed_in_help(plugin_env):
    result = flyte("--help", env=plugin_env)
    assert result.returncode == 0
    assert "hello       Say hello from a plugin." in result.stdout


def test_a_plugin_cannot_replace_a_builtin_verb(plugin_env, tmp_path):
    (tmp_path / "config.yaml").write_text("admin:\n  endpoint: localhost:1\n")
    result = flyte("-c", str(tmp_path / "config.yaml"), "get", "config", env=plugin_env)
    assert result.returncode == 0
    assert "the plugin's get" not in result.stdout
    assert "localhost:1" in result.stdout


def test_builtin_commands_never_import_plugins(plugin_env, tmp_path):
    (tmp_path / "config.yaml").write_text("admin:\n  endpoint: localhost:1\n")
    assert flyte("-c", str(tmp_path / "config.yaml"), "get", "config", env=plugin_env).returncode == 0
    assert not (tmp_path / "imported.txt").exists()
    assert flyte("hello", env=plugin_env).returncode == 0
    assert (tmp_path / "imported.txt").exists()


def test_a_broken_plugin_is_reported_and_skipped(plugin_env):
    result = flyte("broken", env=plugin_env)
    assert result.returncode == 2
    assert "plugin 'broken' (flyte-hello-plugin) is not a click command" in result.stderr
    assert "No such command 'broken'" in result.stderr
    assert flyte("hello", env=plugin_env).returncode == 0


def test_a_plugin_that_fails_to_import_does_not_break_help(tmp_path):
    site = tmp_path / "site"
    install_plugin(
        site,
        "flyte-bad-plugin",
        "flyte_bad_plugin",
        "raise ImportError('missing dep')\n",
        {"bad": "flyte_bad_plugin:cmd"},
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = flyte("--help", env=env)
    assert result.returncode == 0
    assert "deploy" in result.stdout
    assert "plugin 'bad' (flyte-bad-plugin, flyte_bad_plugin:cmd) failed to load: missing dep" in result.stderr


# --- completion ----------------------------------------------------------------------------


def complete(shell: str, words: str, env: dict[str, str] | None = None) -> list[str]:
    """What the shell would offer after ``words`` (click's protocol: _FLYTE_COMPLETE=<shell>_complete)."""
    environment = {**(env or os.environ), "_FLYTE_COMPLETE": f"{shell}_complete", "COMP_WORDS": words}
    # bash and zsh pass the index of the word being completed, fish the word itself.
    environment["COMP_CWORD"] = words.split(" ")[-1] if shell == "fish" else str(len(words.split(" ")) - 1)
    result = subprocess.run(
        [sys.executable, "-c", "from flyte.cli._main import main; main()"],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


TASKS = textwrap.dedent(
    """
    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("comp")

    @env.task
    async def train(epochs: int = 1) -> int:
        return epochs

    @env.task
    async def evaluate(model: str) -> float:
        return 0.5
    """
)


def test_bash_completes_verbs_and_nouns():
    assert "plain,deploy" in complete("bash", "flyte de")
    assert "plain,delete" in complete("bash", "flyte de")
    nouns = complete("bash", "flyte get ")
    for noun in ("run", "action", "task", "logs", "io", "project", "secret", "config", "server"):
        assert f"plain,{noun}" in nouns


def test_completion_offers_the_tasks_of_the_given_file(tmp_path):
    (tmp_path / "comp.py").write_text(TASKS)
    words = f"flyte run {tmp_path / 'comp.py'} "
    assert {"plain,train", "plain,evaluate"} <= set(complete("bash", words))
    zsh = complete("zsh", words)
    assert "train" in zsh
    assert "evaluate" in zsh
    fish = complete("fish", words)
    assert any(line.startswith("plain,train") for line in fish)


def test_completion_offers_a_tasks_inputs(tmp_path):
    (tmp_path / "comp.py").write_text(TASKS)
    assert "plain,--epochs" in complete("bash", f"flyte run {tmp_path / 'comp.py'} train --ep")


def test_completion_of_the_file_argument_is_left_to_the_shell():
    assert "file," in complete("bash", "flyte run ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell):
    result = flyte("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_FLYTE_COMPLETE" in result.stdout
