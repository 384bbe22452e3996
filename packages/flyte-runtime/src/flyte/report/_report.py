"""HTML reports: each action may publish one page of tabs (``report.html``)."""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; }}
nav button {{ border: 0; padding: .5rem 1rem; background: #eee; cursor: pointer; }}
nav button.on {{ background: #333; color: #fff; }}
section {{ display: none; padding-top: 1rem; }} section.on {{ display: block; }}
</style></head>
<body><h1>{title}</h1><nav>{buttons}</nav>{sections}
<script>
function show(i) {{
  document.querySelectorAll("nav button, section").forEach(e => e.classList.remove("on"));
  document.querySelectorAll("nav button")[i].classList.add("on");
  document.querySelectorAll("section")[i].classList.add("on");
}}
show(0);
</script></body></html>
"""


@dataclass
class Tab:
    """One tab of a report: HTML fragments appended with :meth:`log`."""

    name: str
    content: list[str] = field(default_factory=list)

    def log(self, content: str) -> None:
        self.content.append(content)

    def replace(self, content: str) -> None:
        self.content = [content]

    def get_html(self) -> str:
        return "\n".join(self.content)


@dataclass
class Report:
    """The report of one action."""

    name: str
    tabs: dict[str, Tab] = field(default_factory=dict)
    path: Path | None = None  # where flush() writes; None outside a task

    def get_tab(self, name: str, create_if_missing: bool = True) -> Tab:
        if name not in self.tabs:
            if not create_if_missing:
                raise KeyError(f"report {self.name!r} has no tab {name!r}; it has {', '.join(self.tabs) or 'none'}")
            self.tabs[name] = Tab(name)
        return self.tabs[name]

    def has_content(self) -> bool:
        return any(tab.content for tab in self.tabs.values())

    def get_final_report(self) -> str:
        """The whole page: one button and one section per tab."""
        tabs = [t for t in self.tabs.values() if t.content] or [Tab("main")]
        buttons = "".join(f'<button onclick="show({i})">{html.escape(t.name)}</button>' for i, t in enumerate(tabs))
        sections = "".join(f"<section>{t.get_html()}</section>" for t in tabs)
        return _PAGE.format(title=html.escape(self.name), buttons=buttons, sections=sections)

    def flush(self) -> Path | None:
        """Write the page to the action's ``report.html`` (atomically); nothing outside a task."""
        if self.path is None or not self.has_content():
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".report.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(self.get_final_report())
        os.replace(tmp, self.path)
        return self.path
