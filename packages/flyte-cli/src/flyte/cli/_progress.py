"""Progress of long steps: byte bars for uploads, the current step of image builds.

One `Activity` per command owns one rich ``Progress`` display (rich allows a single live
display at a time), in which a step (``activity.step("Bundling ...")``) is a spinner line, an
upload is a byte bar with speed and time left, and an image build is a bar over its steps with
the last output line. For the duration of the activity it installs the process-wide hooks of
``flyte.remote`` (uploads) and ``flyte.imagebuild`` (build output), so transfers and builds
started deep inside ``flyte.run`` / ``flyte.deploy`` (on syncify's loop thread, on worker
threads) reach the display.

Off the terminal, or with ``--no-progress``: no animation and no escape codes. Uploads then
print nothing (the command prints what it uploaded), and build output goes to stderr as plain
lines.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from typing import Any

import click

_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) :")
_BUILDKIT_STEP = re.compile(r"^#\d+ \[(?:[^\]\s]+ )?(\d+)/(\d+)\]")
_LAST_LINE_CHARS = 80


def is_terminal() -> bool:
    return sys.stdout.isatty()


def build_step(line: str) -> tuple[int, int] | None:
    """``(step, steps)`` when ``line`` starts a build step, in docker's classic output
    (``Step 2/5 : RUN ...``) or BuildKit's plain output (``#7 [2/5] RUN ...``)."""
    m = _CLASSIC_STEP.match(line) or _BUILDKIT_STEP.match(line)
    return (int(m[1]), int(m[2])) if m else None


class Activity:
    """The progress display of one command; inert (and silent) when ``live`` is False."""

    def __init__(self, live: bool):
        self.live = live
        self._progress: Any = None
        self._stack = ExitStack()
        self._build_task: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Activity:
        from flyte.imagebuild import build_progress
        from flyte.remote._data import transfer_progress

        if self.live:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            from flyte.cli._output import console

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                _only_with_total_column("bar"),
                _only_with_total_column("amount"),
                TextColumn("{task.fields[detail]}", style="dim"),
                console=console(),
                transient=True,
                refresh_per_second=8,
            )
            self._stack.enter_context(self._progress)
            self._stack.enter_context(transfer_progress(self._transfer))
            self._stack.enter_context(build_progress(self._build_line))
        else:
            self._stack.enter_context(transfer_progress(None))
            self._stack.enter_context(build_progress(_plain_build_line))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        """A spinner line with ``description`` while the block runs (nothing when not live)."""
        if self._progress is None:
            yield
            return
        task = self._progress.add_task(description, total=None, detail="", unit="")
        try:
            yield
        finally:
            self._progress.remove_task(task)

    def transfer(self, description: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        """A byte bar for a transfer the command does itself; gives ``advance(nbytes)`` (a no-op when not live)."""
        if self._progress is None:
            return nullcontext(_ignore)
        return self._transfer(description, total)

    @contextmanager
    def _transfer(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        progress = self._progress
        task = progress.add_task(description, total=total, detail="", unit="bytes")
        progress.refresh()  # drawn at least once, however quickly the transfer ends
        try:
            yield lambda n: progress.advance(task, n)
        finally:
            progress.remove_task(task)

    def _build_line(self, line: str) -> None:
        progress = self._progress
        text = line.strip()
        if not text:
            return
        with self._lock:
            if self._build_task is None:
                self._build_task = progress.add_task("Building image", total=None, detail="", unit="steps")
            task = self._build_task
        detail = text if len(text) <= _LAST_LINE_CHARS else text[: _LAST_LINE_CHARS - 1] + "…"
        step = build_step(text)
        if step is not None:
            progress.update(task, completed=step[0], total=step[1], detail=detail)
        else:
            progress.update(task, detail=detail)


def _ignore(nbytes: int) -> None:
    pass


def _plain_build_line(line: str) -> None:
    click.echo(line, err=True)


def _only_with_total_column(kind: str) -> Any:
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, ProgressColumn, TransferSpeedColumn
    from rich.text import Text

    bar = BarColumn(bar_width=30)
    download = DownloadColumn()
    speed = TransferSpeedColumn()
    steps = MofNCompleteColumn()

    class Column(ProgressColumn):
        """A bar, or an amount (bytes and speed, or steps), for tasks that know their total."""

        def render(self, task: Any) -> Any:
            if task.total is None:
                return Text("")
            if kind == "bar":
                return bar.render(task)
            if task.fields.get("unit") == "bytes":
                return Text.assemble(download.render(task), " ", speed.render(task))
            return Text.assemble("step ", steps.render(task))

    return Column()
