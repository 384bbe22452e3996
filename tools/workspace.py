"""The workspace as data: every distribution, what it owns and what it depends on.

The other tools (dependency checks, wheel builds, version bumps, the changed set) all read the
workspace through this module, so the pyproject files stay the single source of truth.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
NAMESPACES = ("flyte", "flyteplugins")
UMBRELLA = "flyte"
_VERSION_RE = re.compile(r'^__version__\s*=\s*"([^"]+)"', re.M)


@dataclass(frozen=True)
class Distribution:
    """One distribution of the workspace, read from its pyproject.toml."""

    name: str
    path: Path
    pyproject: dict[str, object] = field(repr=False, compare=False)

    @property
    def project(self) -> dict[str, object]:
        return self.pyproject["project"]  # type: ignore[return-value]

    @property
    def src(self) -> Path:
        return self.path / "src"

    @property
    def tests(self) -> Path:
        return self.path / "tests"

    @property
    def version_file(self) -> Path:
        return self.path / self.pyproject["tool"]["hatch"]["version"]["path"]  # type: ignore[index]

    @property
    def version(self) -> str:
        match = _VERSION_RE.search(self.version_file.read_text())
        if match is None:
            raise ValueError(f'{self.version_file}: no line of the form __version__ = "X.Y.Z"')
        return match.group(1)

    @cached_property
    def requirements(self) -> list[Requirement]:
        """Runtime requirements (no extras)."""
        return [Requirement(r) for r in self.project.get("dependencies", [])]  # type: ignore[attr-defined]

    @cached_property
    def optional_requirements(self) -> dict[str, list[Requirement]]:
        extras = self.project.get("optional-dependencies", {})
        return {k: [Requirement(r) for r in v] for k, v in extras.items()}  # type: ignore[attr-defined]

    @property
    def not_yet_imported(self) -> set[str]:
        tool = self.pyproject.get("tool", {})
        deps = tool.get("flyte", {}).get("deps", {})  # type: ignore[attr-defined]
        return {canonicalize_name(n) for n in deps.get("not-yet-imported", [])}

    @property
    def portions(self) -> list[str]:
        """Dotted import paths this distribution owns, e.g. ``["flyte.models", "flyte.errors"]``."""
        if self.name == UMBRELLA:
            return [UMBRELLA]
        found = []
        for ns in NAMESPACES:
            base = self.src / ns
            if base.is_dir():
                found += [f"{ns}.{p.name}" for p in sorted(base.iterdir()) if (p / "__init__.py").is_file()]
        return found

    @property
    def is_plugin(self) -> bool:
        return self.path.parent.name == "plugins"

    def python_files(self) -> Iterable[Path]:
        return sorted(self.src.rglob("*.py"))


class Workspace:
    """All distributions under ``packages/`` and ``plugins/`` of a checkout."""

    def __init__(self, root: Path = ROOT):
        self.root = root
        self.dists: dict[str, Distribution] = {}
        for pyproject in sorted([*root.glob("packages/*/pyproject.toml"), *root.glob("plugins/*/pyproject.toml")]):
            data = tomllib.loads(pyproject.read_text())
            name = canonicalize_name(data["project"]["name"])
            self.dists[name] = Distribution(name, pyproject.parent, data)

    def __getitem__(self, name: str) -> Distribution:
        try:
            return self.dists[canonicalize_name(name)]
        except KeyError:
            known = ", ".join(sorted(self.dists))
            raise SystemExit(f"unknown distribution {name!r}; the workspace has: {known}") from None

    def __iter__(self) -> Iterable[Distribution]:  # type: ignore[override]
        return iter(self.dists.values())

    def sibling_deps(self, dist: Distribution) -> set[str]:
        """Names of the workspace distributions that ``dist`` declares as runtime dependencies."""
        return {canonicalize_name(r.name) for r in dist.requirements} & set(self.dists)

    def closure(self, name: str) -> set[str]:
        """``name`` and every workspace distribution it depends on, transitively."""
        seen: set[str] = set()
        todo = [canonicalize_name(name)]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += self.sibling_deps(self[n])
        return seen

    def dependents(self, names: Iterable[str]) -> set[str]:
        """The given distributions plus every distribution that depends on one of them."""
        result = {canonicalize_name(n) for n in names}
        changed = True
        while changed:
            changed = False
            for d in self:
                if d.name not in result and self.sibling_deps(d) & result:
                    result.add(d.name)
                    changed = True
        return result

    def owner_of_module(self, module: str) -> Distribution | None:
        """The distribution that ships the dotted module ``module``, if it is one of ours."""
        best: Distribution | None = None
        best_len = -1
        for d in self:
            for portion in d.portions:
                if (module == portion or module.startswith(portion + ".")) and len(portion) > best_len:
                    best, best_len = d, len(portion)
        return best

    def owner_of_path(self, path: str) -> Distribution | None:
        """The distribution whose folder holds the repository-relative ``path``."""
        for d in self:
            rel = d.path.relative_to(self.root).as_posix() + "/"
            if path.startswith(rel):
                return d
        return None


def sibling_range(version: str) -> str:
    """The range a dependent pins on a sibling at ``version``: compatible releases only.

    Before 1.0 a minor bump may break (``>=0.3,<0.4``); from 1.0 on, a major bump does
    (``>=1.4,<2``).
    """
    major, minor, *_ = (int(p) for p in version.split("."))
    if major == 0:
        return f">={major}.{minor},<{major}.{minor + 1}"
    return f">={major}.{minor},<{major + 1}"
