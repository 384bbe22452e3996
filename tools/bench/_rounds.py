"""What the side-by-side benchmarks share: which Python runs an SDK, and rounds that alternate
which SDK goes first, each row saved as a JSON line the moment it is measured."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SDK_CHOICES = ("ours", "public", "both")

Row = dict[str, Any]


def sdks_of(choice: str) -> list[str]:
    """``--sdk`` as the list of SDKs to measure."""
    return ["ours", "public"] if choice == "both" else [choice]


def python_of(sdk: str) -> Path:
    """The interpreter that runs ``sdk``: this one for ours, the cached flyte 2.12.1 venv's for public."""
    if sdk == "ours":
        return Path(sys.executable)
    from tools.public_flyte import public_python

    return public_python()


def interleaved_rounds(
    name: str, sdks: list[str], rounds: int, one_round: Callable[[str, Path, int], list[Row]]
) -> tuple[list[Row], Path]:
    """Run ``one_round(sdk, work_dir, round_no)`` for each SDK, ``rounds`` times, alternating
    which SDK goes first (so neither always meets a warmer or a busier machine).

    Rows go to ``results/<UTC time>-<name>/bench_<name>.jsonl`` as they come; returns them and
    that file. The load average before and after is printed, for judging the machine's noise.
    """
    out_dir = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / f"bench_{name}.jsonl"
    rows: list[Row] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp, open(raw, "w") as f:
        for round_no in range(rounds):
            for sdk in sdks if round_no % 2 == 0 else list(reversed(sdks)):
                for row in one_round(sdk, Path(tmp), round_no):
                    f.write(json.dumps(row) + "\n")
                    f.flush()
                    rows.append(row)
                print(f"round {round_no} {sdk} done", file=sys.stderr, flush=True)
    print(f"load average before: {load_before}, after: {os.getloadavg()}")
    return rows, raw
