"""`flyte run` on a terminal: the live tree, and Ctrl-C asking whether to abort.

The CLI runs in a real subprocess whose stdin, stdout and stderr are a pseudo-terminal (pty), as
in a user's shell; the test reads what the terminal would show, and answers the prompt.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_remote_commands import TASKS, clean_env, flyte

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# An interactive shell starts a command with SIGINT at its default. A test runner started in the
# background (nohup, some CI agents) hands down SIG_IGN instead, under which Python installs no
# KeyboardInterrupt handler and the Ctrl-C these tests send would do nothing: the child puts
# Python's own handler back first thing. (Not with a `preexec_fn`: that runs Python between fork
# and exec, which breaks when another test left gRPC threads running in this process.)
_CLI = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from flyte.cli._main import main; main(sys.argv[1:])"
)


class Terminal:
    """A process attached to a pty; ``read_until`` collects its output (escape codes removed)."""

    def __init__(self, args: list[str], env: dict[str, str]):
        master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CLI, *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.raw = b""

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace")).replace("\r", "")

    def _drain(self, wait: float, idle: bool = True) -> bool:
        """Read what the terminal got within ``wait`` seconds; False once the process closed it
        (and, with ``idle=False``, when nothing came).

        Reading all along matters: a pty holds a few KB, and a writer whose reader stops blocks.
        """
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return idle
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the process closed the terminal
            return False
        self.raw += chunk
        return bool(chunk)

    def read_until(self, pattern: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} did not appear within {timeout}s; the terminal shows:\n{self.text}")
            if not self._drain(0.2) and self.process.poll() is not None:
                raise AssertionError(f"the process ended before {pattern!r}; the terminal shows:\n{self.text}")
        return self.text

    def write(self, data: str) -> None:
        os.write(self.master, data.encode())

    def wait(self, timeout: float = 300) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout}s; the terminal shows:\n{self.text}")
            self._drain(0.2)
        while self._drain(0.1, idle=False):  # what is left after the exit
            pass
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)

    @classmethod
    def finished(cls, args: list[str], env: dict[str, str]) -> Terminal:
        """Run the command on a terminal until it exits (successfully); its output stays readable."""
        term = cls(args, env)
        try:
            assert term.wait() == 0, term.text
        finally:
            term.close()
        return term


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    env = {**clean_env(tmp_path), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    tasks = tmp_path / "clirem.py"
    tasks.write_text(TASKS)
    assert flyte("start", "server", "--port", "0", env=env).returncode == 0
    try:
        yield env, tasks
    finally:
        flyte("stop", "server", env=env)


def test_the_live_view_draws_a_tree_of_actions_and_ends_with_the_outputs(setup):
    env, tasks = setup
    term = Terminal.finished(["run", str(tasks), "main", "--n", "2"], env)
    screen = term.text
    name = re.search(r"Run (\S+) submitted to", screen).group(1)  # type: ignore[union-attr]
    assert f"run {name}" in screen  # the tree's root
    assert re.search(r"[└├]── a0 clirem\.main\s+SUCCEEDED\s+\d+\.\ds\s+attempt 1", screen)
    # Children hang under the root action, one level deeper.
    assert re.search(r"\s{4}[└├]── \w+ clirem\.square\s+SUCCEEDED", screen)
    assert "\x1b[" in term.raw.decode(errors="replace")  # drawn with terminal control codes
    assert screen.rstrip().splitlines()[-2:] == [f"Run {name} succeeded", "o0: [0, 1]"]


def test_no_progress_prints_plain_lines_even_on_a_terminal(setup):
    env, tasks = setup
    term = Terminal.finished(["run", "--no-progress", str(tasks), "main", "--n", "1"], env)
    assert re.search(r"\[\S+\] a0 clirem\.main SUCCEEDED", term.text)
    assert "── a0" not in term.text


def test_ctrl_c_asks_whether_to_abort_and_yes_aborts_the_run(setup):
    env, tasks = setup
    term = Terminal(["run", str(tasks), "slow"], env)
    try:
        term.read_until(r"slow\s+RUNNING")
        name = re.search(r"Run (\S+) submitted to", term.text).group(1)  # type: ignore[union-attr]
        term.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        term.read_until(rf"Abort run {name}\? \[y/N\]")
        term.write("y\n")
        assert term.wait() == 130
        assert f"Aborted run {name}" in term.text
    finally:
        term.close()
    deadline = time.monotonic() + 120
    while True:
        (row,) = json.loads(flyte("-of", "json", "get", "run", name, env=env).stdout)
        if row["phase"] == "ABORTED" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert row["phase"] == "ABORTED"


def test_ctrl_c_answered_no_leaves_the_run_running(setup):
    env, tasks = setup
    term = Terminal(["run", str(tasks), "slow", "--seconds", "2"], env)
    try:
        term.read_until(r"slow\s+RUNNING")
        name = re.search(r"Run (\S+) submitted to", term.text).group(1)  # type: ignore[union-attr]
        term.process.send_signal(signal.SIGINT)
        term.read_until(r"\[y/N\]")
        term.write("n\n")
        assert term.wait() == 130
        assert f"Run {name} keeps running" in term.text
    finally:
        term.close()
    deadline = time.monotonic() + 120
    while True:
        (row,) = json.loads(flyte("-of", "json", "get", "run", name, env=env).stdout)
        if row["phase"] == "SUCCEEDED" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert row["phase"] == "SUCCEEDED"
