import shutil
from pathlib import Path

import pytest

from tools.workspace import ROOT

_COPIED = ("packages", "plugins", ".importlinter", "pyproject.toml", "uv.lock")


@pytest.fixture
def workspace_copy(tmp_path: Path) -> Path:
    """A copy of this checkout's distributions, to plant violations in."""
    root = tmp_path / "ws"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv", "dist")
    for name in _COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=ignore)
        else:
            shutil.copy2(src, root / name)
    return root


def plant(root: Path, relative: str, code: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code)
    return path
