"""Printing results as a table (people) or JSON (scripts), chosen by ``-of/--output-format``.

JSON is a list of objects whose keys do not depend on the values (``null`` where there is none),
so scripts can rely on them. Tables are rich tables, imported only when one is printed.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import click


def emit(rows: Sequence[dict[str, Any]], output_format: str, *, title: str | None = None) -> None:
    """Print ``rows`` (dicts sharing their keys) as JSON, or as a table."""
    if output_format == "json":
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    if not rows:
        click.echo(f"No {title}." if title else "Nothing to show.")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold", title=None)
    columns = list(rows[0])
    for column in columns:
        table.add_column(column.upper(), overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))  # values are not markup
    console().print(table)


def console(stderr: bool = False) -> Any:
    """A rich console on the current stdout (or stderr); as wide as needed when not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else max(shutil.get_terminal_size((200, 24)).columns, 200)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
