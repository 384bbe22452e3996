"""The public Flyte 2 SDK (flyte==2.12.1) in its own cached venv, for side-by-side checks.

It shares our import name, so it never goes into the workspace environment. Compatibility tests
run it as a subprocess; benchmarks run the same workloads with it. One venv serves them all:
``~/.cache/flyte-dev/flyte-public-2.12.1``, built in place (so its console scripts work) under a
file lock (so parallel test sessions do not race), and marked complete only once installed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

PUBLIC_VERSION = "2.12.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "flyte-dev"
VENV = CACHE / f"flyte-public-{PUBLIC_VERSION}"
PACKAGES = (f"flyte=={PUBLIC_VERSION}", "pandas", "pyarrow")
_MARKER = ".complete-v1"  # bump when PACKAGES change


class PublicFlyteUnavailable(RuntimeError):
    """The venv could not be created (no route to the package index, for instance)."""


def public_python() -> Path:
    """The interpreter of the public SDK's venv, creating the venv on first use."""
    python = VENV / "bin" / "python"
    if (VENV / _MARKER).exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (VENV / _MARKER).exists():  # another process built it while we waited
            return python
        shutil.rmtree(VENV, ignore_errors=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=120)
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES]
            subprocess.run(pip, check=True, capture_output=True, timeout=900)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            shutil.rmtree(VENV, ignore_errors=True)
            detail = e.stderr.decode(errors="replace")[-500:] if isinstance(e, subprocess.CalledProcessError) else e
            raise PublicFlyteUnavailable(f"cannot create a venv with flyte=={PUBLIC_VERSION}: {detail}") from e
        (VENV / _MARKER).write_text(" ".join(PACKAGES))
    return python
