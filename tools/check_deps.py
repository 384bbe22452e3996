"""Check that each distribution declares exactly what its code imports.

For every distribution it parses the sources, collects absolute imports, maps each to the
distribution that provides it (a workspace sibling by the import paths it owns, a third party
through the installed metadata), and reports:

- an import of a sibling or third party that is not declared (in ``dependencies`` or an extra);
- a declared runtime dependency that nothing imports, unless the distribution lists it under
  ``[tool.flyte.deps] not-yet-imported`` (and one listed there that *is* imported is stale);
- a lower distribution importing the umbrella (``from flyte import X``): only ``flyte`` itself may.

Usage: ``uv run python -m tools.check_deps [--root PATH]``. Exit status 1 on any violation; each
line names the file, the import and the distribution at fault.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from functools import cache
from importlib.metadata import files, packages_distributions
from pathlib import Path

from packaging.utils import canonicalize_name

from tools.workspace import NAMESPACES, ROOT, UMBRELLA, Distribution, Workspace

# Imported names that are provided by a distribution of another name and that the installed
# metadata cannot map (namespace pieces, modules installed by a dependency's dependency).
_EXTRA_PROVIDERS: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    module: str
    file: Path
    line: int


def imports_of(dist: Distribution) -> list[Import]:
    """Every absolute import in the distribution's sources."""
    found = []
    for path in dist.python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(alias.name, path, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module in NAMESPACES:
                    # `from flyte import errors` names a submodule, `from flyte import run` the umbrella.
                    found += [Import(f"{node.module}.{a.name}", path, node.lineno) for a in node.names]
                else:
                    found.append(Import(node.module, path, node.lineno))
    return found


def provider_of(module: str, ws: Workspace, third_party: dict[str, list[str]]) -> str | None:
    """Canonical name of the distribution that provides ``module``; None for the stdlib."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    if top in NAMESPACES:
        owner = ws.owner_of_module(module)
        return owner.name if owner else UMBRELLA
    if top in _EXTRA_PROVIDERS:
        return _EXTRA_PROVIDERS[top]
    candidates = third_party.get(top)
    if not candidates:
        return f"<unknown: {top}>"
    if len(set(candidates)) > 1:
        # A namespace shared by several distributions (`google.protobuf` vs `google.api`): the
        # provider is the one that ships the deepest part of the module's path.
        return _deepest_provider(module, tuple(sorted(set(candidates))))
    return canonicalize_name(candidates[0])


@cache
def _deepest_provider(module: str, candidates: tuple[str, ...]) -> str:
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        prefix = "/".join(parts[:depth])
        for dist in candidates:
            shipped = files(dist) or []
            if any(str(f) == f"{prefix}.py" or str(f).startswith(f"{prefix}/") for f in shipped):
                return canonicalize_name(dist)
    return canonicalize_name(candidates[0])


def check_distribution(dist: Distribution, ws: Workspace, third_party: dict[str, list[str]]) -> list[str]:
    declared = {canonicalize_name(r.name) for r in dist.requirements}
    extras = {canonicalize_name(r.name) for reqs in dist.optional_requirements.values() for r in reqs}
    problems: list[str] = []
    used: set[str] = set()
    for imp in imports_of(dist):
        provider = provider_of(imp.module, ws, third_party)
        if provider is None or provider == dist.name:
            continue
        used.add(provider)
        where = f"{imp.file.relative_to(ws.root)}:{imp.line}"
        if provider == UMBRELLA and dist.name != UMBRELLA:
            problems.append(
                f"{where}: {dist.name} imports the umbrella ({imp.module!r}); "
                "lower distributions import the sibling that owns the name instead"
            )
        elif provider.startswith("<unknown"):
            problems.append(f"{where}: {dist.name} imports {imp.module!r}, which no installed distribution provides")
        elif provider not in declared | extras:
            problems.append(
                f"{where}: {dist.name} imports {imp.module!r} from {provider}, "
                f"which is not declared in {dist.path.relative_to(ws.root)}/pyproject.toml"
            )
    if dist.name != UMBRELLA:  # the umbrella's job is to depend on everything
        for name in sorted(declared - used - dist.not_yet_imported):
            problems.append(f"{dist.name}: declares {name} but no module imports it")
    for name in sorted(dist.not_yet_imported & used):
        problems.append(f"{dist.name}: {name} is imported now; remove it from [tool.flyte.deps] not-yet-imported")
    for name in sorted(dist.not_yet_imported - declared):
        problems.append(f"{dist.name}: [tool.flyte.deps] not-yet-imported lists {name}, which is not a dependency")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to check (default: this one)")
    args = parser.parse_args(argv)
    ws = Workspace(args.root.resolve())
    third_party = packages_distributions()
    problems = [p for d in ws for p in check_distribution(d, ws, third_party)]
    for p in problems:
        print(p)
    for d in ws:
        if d.not_yet_imported:
            print(f"note: {d.name} declares {', '.join(sorted(d.not_yet_imported))} ahead of use")
    print(f"checked {len(ws.dists)} distributions: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
