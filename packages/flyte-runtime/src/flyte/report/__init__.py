"""Publish an HTML report from a task: ``flyte.report.log("<h2>loss</h2>...")``.

Each action has one report of named tabs (``get_tab(name)``); ``log`` appends to the ``main`` tab,
``replace`` replaces it, ``flush`` writes ``report.html`` beside the action's outputs. A task
declared with ``report=True`` has its report written when it finishes, too. Outside a task the
calls collect content that is never written.
"""

from __future__ import annotations

from pathlib import Path

from flyte.report._report import Report, Tab
from flyte.runtime._context import _CURRENT

__all__ = ["Report", "Tab", "current_report", "flush", "get_tab", "log", "replace"]

_detached = Report("detached")


def current_report() -> Report:
    """The report of the action running now (a detached, never-written one outside a task)."""
    tctx = _CURRENT.get()
    if tctx is None:
        return _detached
    report = tctx.data.get("_report")
    if report is None:
        path = Path(tctx.run_base_dir) / "actions" / tctx.action.name / "report.html" if tctx.mode == "local" else None
        report = tctx.data["_report"] = Report(tctx.action.name, path=path)
    return report


def get_tab(name: str, /, create_if_missing: bool = True) -> Tab:
    return current_report().get_tab(name, create_if_missing)


def log(content: str, do_flush: bool = False) -> None:
    """Append HTML to the report's main tab."""
    current_report().get_tab("main").log(content)
    if do_flush:
        flush()


def replace(content: str, do_flush: bool = False) -> None:
    """Replace the main tab's HTML."""
    current_report().get_tab("main").replace(content)
    if do_flush:
        flush()


def flush() -> None:
    """Write the report now (it is also written when a task with ``report=True`` ends)."""
    current_report().flush()
