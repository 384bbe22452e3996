"""Judging how an attempt ended, from what ``a0`` left behind and its exit status.

The contract (ARCHITECTURE.md, "Files"): a task that failed wrote ``error.pb`` and exited 0; one
that succeeded wrote ``outputs.pb``; no outputs and a non-zero exit means ``a0`` itself could not
run, a system error.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from pathlib import Path

from flyteidl2.common import phase_pb2
from flyteidl2.core import execution_pb2

from flyte.models import ErrorInfo

SUCCEEDED = phase_pb2.ACTION_PHASE_SUCCEEDED
FAILED = phase_pb2.ACTION_PHASE_FAILED
TIMED_OUT = phase_pb2.ACTION_PHASE_TIMED_OUT
ABORTED = phase_pb2.ACTION_PHASE_ABORTED


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: a terminal phase and, unless it succeeded, the error."""

    phase: int
    error: ErrorInfo | None = None

    @property
    def retryable(self) -> bool:
        return self.phase in (FAILED, TIMED_OUT) and self.error is not None and self.error.recoverable


def _exit_description(exit_code: int) -> str:
    if exit_code < 0:
        try:
            return f"was killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"was killed by signal {-exit_code}"
    return f"exited with status {exit_code}"


async def judge(outputs_dir: Path, exit_code: int | None, stderr_file: Path | None = None) -> Outcome | None:
    """The outcome of an attempt whose files are in ``outputs_dir``.

    Args:
        outputs_dir: the attempt's ``--outputs-path``.
        exit_code: the process's exit status; None when it is unknown (the server restarted).
        stderr_file: the attempt's stderr, quoted in the message of a system error.

    Returns:
        None only when ``exit_code`` is None and the attempt left no result file.
    """
    found, payload = await asyncio.to_thread(_read_result, outputs_dir, exit_code, stderr_file)
    if found == "error":
        try:
            return Outcome(FAILED, ErrorInfo.from_document(execution_pb2.ErrorDocument.FromString(payload)))
        except Exception as e:  # a torn or foreign file: the platform's problem, not the task's
            return Outcome(FAILED, ErrorInfo("CorruptErrorDocument", f"error.pb cannot be read: {e}", kind="system"))
    if found == "unreadable":
        reason = payload.decode(errors="replace")
        return Outcome(FAILED, ErrorInfo("CorruptErrorDocument", f"error.pb cannot be read: {reason}", kind="system"))
    if found == "outputs":
        return Outcome(SUCCEEDED)
    if exit_code is None:
        return None
    tail = payload.decode(errors="replace")
    message = f"a0 {_exit_description(exit_code)} without writing outputs.pb or error.pb"
    return Outcome(FAILED, ErrorInfo("SystemError", f"{message}\n{tail}".rstrip(), kind="system", recoverable=True))


def _read_result(outputs_dir: Path, exit_code: int | None, stderr_file: Path | None) -> tuple[str, bytes]:
    """What the attempt left (blocking; the whole look at its files in one thread hop):
    ``("error", error.pb)``, ``("unreadable", reason)``, ``("outputs", b"")``, or
    ``("none", the stderr tail worth quoting)``."""
    try:
        return "error", (outputs_dir / "error.pb").read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as e:  # there, but not a readable file
        return "unreadable", str(e).encode()
    if (outputs_dir / "outputs.pb").exists():
        return "outputs", b""
    tail = _tail(stderr_file) if stderr_file is not None and exit_code is not None else ""
    return "none", tail.encode()


def _tail(path: Path, max_bytes: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(size - max_bytes, 0))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
