"""Watching a remote run from the terminal until it ends.

On a terminal: a live tree of the run's actions (phase, duration, attempt), redrawn as they
change, with ``--follow`` log lines printed above it. Elsewhere (a pipe, a CI log): one plain
line whenever an action changes phase or attempt. Ctrl-C asks whether to abort the run (without
a terminal to ask on, the run keeps going).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import click

from flyte.cli import _records as records

POLL_S = 0.4
SETTLE_POLLS = 5  # polls the run's final line waits for lagging children (plain mode)
_COLORS = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "TIMED_OUT": "red",
    "ABORTED": "yellow",
    "RUNNING": "cyan",
    "QUEUED": "dim",
    "INITIALIZING": "blue",
    "WAITING_FOR_RESOURCES": "blue",
}


def is_terminal() -> bool:
    return sys.stdout.isatty()


def describe(row: dict[str, Any]) -> str:
    """One action as plain text: ``a0 main RUNNING 1.2s attempt 1``."""
    parts = [row["name"], row["task"] or "-", row["phase"]]
    if row["duration_s"] is not None:
        parts.append(f"{row['duration_s']:.1f}s")
    if row["attempts"]:
        parts.append(f"attempt {row['attempts']}")
    return " ".join(str(p) for p in parts)


def tree(run_name: str, rows: list[dict[str, Any]]) -> Any:
    """A rich Tree of the actions, children under their parent, in start order."""
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(f"run {run_name}", style="bold"))
    nodes: dict[str, Any] = {}
    pending = sorted(rows, key=lambda r: (r["start_time"] or "~", r["name"]))
    # Parents first: an action whose parent is not placed yet waits for the next pass.
    for _ in range(len(pending) + 1):
        waiting = []
        for row in pending:
            parent = row["parent"]
            if parent and parent not in nodes and any(r["name"] == parent for r in rows):
                waiting.append(row)
                continue
            label = Text(f"{row['name']} ")
            label.append(row["task"] or "-", style="bold")
            label.append(f"  {row['phase']}", style=_COLORS.get(row["phase"], ""))
            if row["duration_s"] is not None:
                label.append(f"  {row['duration_s']:.1f}s", style="dim")
            if row["attempts"] and row["attempts"] > 1:
                label.append(f"  attempt {row['attempts']}", style="yellow")
            elif row["attempts"]:
                label.append(f"  attempt {row['attempts']}", style="dim")
            nodes[row["name"]] = nodes.get(parent, root).add(label)
        if not waiting:
            break
        pending = waiting
    return root


class _Snapshot:
    """The actions of a run as last polled."""

    def __init__(self, run_name: str):
        self.run_name = run_name
        self.rows: list[dict[str, Any]] = []
        self.root_phase = "QUEUED"

    def poll(self) -> None:
        details = records.run_details(self.run_name)
        self.root_phase = records.phase_name(details.status.phase)
        rows = {r["name"]: r for r in (records.action_row(a) for a in records.list_actions(self.run_name))}
        rows[details.id.name] = records.action_row(details)  # the root, fresh even if the list lags
        self.rows = list(rows.values())

    @property
    def done(self) -> bool:
        return self.root_phase in records.TERMINAL


def _follow_logs(run: Any, emit: Callable[[str], None], stop: threading.Event) -> threading.Thread:
    def pump() -> None:
        try:
            for line in run.get_logs(follow=True):
                if stop.is_set():
                    return
                emit(str(line).rstrip("\n"))
        except Exception as e:  # logs are a convenience: the run's outcome is still reported
            emit(f"(log stream ended: {type(e).__name__}: {e})")

    thread = threading.Thread(target=pump, name="flyte-logs", daemon=True)
    thread.start()
    return thread


def watch_run(run: Any, *, follow: bool = False, live: bool = True) -> str:
    """Show ``run`` until it reaches a terminal phase; returns that phase.

    ``live=False`` (``--no-progress``) prints plain lines even on a terminal.

    Ctrl-C stops watching: on a terminal it asks whether to abort the run; the command then
    exits 130.
    """
    snapshot = _Snapshot(run.name)
    stop = threading.Event()
    try:
        if live and is_terminal():
            _watch_live(snapshot, run, follow, stop)
        else:
            _watch_plain(snapshot, run, follow, stop)
    except KeyboardInterrupt:
        stop.set()
        _interrupted(run)
        raise click.exceptions.Exit(130) from None
    finally:
        stop.set()
    return snapshot.root_phase


def _watch_plain(snapshot: _Snapshot, run: Any, follow: bool, stop: threading.Event) -> None:
    if follow:
        _follow_logs(run, click.echo, stop)
    seen: dict[str, tuple[str, int]] = {}
    grace = SETTLE_POLLS
    while True:
        snapshot.poll()
        rows = snapshot.rows
        if snapshot.done and grace > 0 and any(r["phase"] not in records.TERMINAL for r in rows):
            # The run ended but the action list still shows some running: hold the run's own
            # line back for a few polls so that it comes after theirs.
            grace -= 1
            rows = [r for r in rows if r["parent"] is not None]
        for row in changes(rows, seen):
            click.echo(f"[{snapshot.run_name}] {describe(row)}")
        if snapshot.done and rows is snapshot.rows:
            return
        time.sleep(POLL_S)


def changes(rows: list[dict[str, Any]], seen: dict[str, tuple[str, int]]) -> list[dict[str, Any]]:
    """The rows whose phase or attempt changed since ``seen`` (which is updated), in print order.

    One poll often brings several changes at once: a fan-out's last children succeeding and the
    run itself succeeding. Start order alone would print the parent (started first) before those
    children. So changes to running phases come first, in start order, then the actions that
    ended, deepest first: every parent's final line after its children's, the run's last.
    """
    by_name = {r["name"]: r for r in rows}

    def depth(row: dict[str, Any]) -> int:
        d, parent, hops = 0, row["parent"], 0
        while parent in by_name and hops < len(by_name):
            d, parent, hops = d + 1, by_name[parent]["parent"], hops + 1
        return d

    changed = []
    for row in rows:
        key = (row["phase"], row["attempts"])
        if seen.get(row["name"]) != key:
            seen[row["name"]] = key
            changed.append(row)
    ongoing = [r for r in changed if r["phase"] not in records.TERMINAL]
    ended = [r for r in changed if r["phase"] in records.TERMINAL]
    ongoing.sort(key=lambda r: (r["start_time"] or "~", r["name"]))
    ended.sort(key=lambda r: (-depth(r), r["end_time"] or "~", r["start_time"] or "~", r["name"]))
    return ongoing + ended


def _watch_live(snapshot: _Snapshot, run: Any, follow: bool, stop: threading.Event) -> None:
    from rich.live import Live

    from flyte.cli._output import console

    snapshot.poll()
    # No stdout/stderr redirection: a prompt after Ctrl-C must reach the terminal as it is.
    live = Live(
        tree(snapshot.run_name, snapshot.rows),
        console=console(),
        refresh_per_second=8,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    try:  # not `with`: a Ctrl-C inside start() must still stop the refresh thread
        live.start()
        if follow:
            _follow_logs(run, lambda line: live.console.print(line, markup=False, highlight=False), stop)
        while not snapshot.done:
            time.sleep(POLL_S)
            snapshot.poll()
            live.update(tree(snapshot.run_name, snapshot.rows))
    finally:
        live.stop()


def _interrupted(run: Any) -> None:
    if not (sys.stdin.isatty() and is_terminal()):
        click.echo(
            f"\nStopped watching; run {run.name} keeps running (`flyte abort run {run.name}` stops it)", err=True
        )
        return
    try:
        answer = click.confirm(f"\nAbort run {run.name}?", default=False, err=True)
    except (click.Abort, KeyboardInterrupt, EOFError):
        answer = False
    if answer:
        run.abort("aborted from the flyte CLI (Ctrl-C)")
        click.echo(f"Aborted run {run.name}", err=True)
    else:
        click.echo(f"Run {run.name} keeps running; `flyte get run {run.name}` shows it", err=True)
