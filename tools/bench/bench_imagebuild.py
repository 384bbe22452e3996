"""Image build benchmarks: content-hashing a spec with a 10,000-file source folder, and no-op rebuilds.

    uv run python -m tools.bench.bench_imagebuild                      # hashing + record-only no-op rebuild
    uv run python -m tools.bench.bench_imagebuild --docker-host unix:///path/docker.sock --base local/debian-py:12

Hashing: a fresh `Image` per round (nothing cached in-process), over a folder of 10,000 files of
1 KiB in 100 sub-folders: reading every file (an empty digest cache each round), and again with
the digest cache filled (unchanged files cost one ``stat``).

No-op rebuild: `flyte.imagebuild.build(image)` of an image that exists, in a fresh interpreter
per round (so imports are counted, interpreter start-up is not): found through the local record,
and, with ``--docker-host``, found on the engine with an empty record (the image is built once
first, on that engine, from ``--base``, which must already be there). Each no-op round reports
wall time and the process's CPU time: on a loaded machine the wall time mostly measures waiting
for a core, the CPU time is what an idle machine would see.

``--public PYTHON``: the same hashing with the public flyte 2.12.1 (``Image.uri`` of the same
spec) in that interpreter, a fresh process per round (it keeps no digests between processes).

Prints one JSON line and appends it to ``tools/bench/results/<UTC time>-imagebuild/imagebuild.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

FILES = 10_000


def make_tree(root: Path, files: int = FILES) -> Path:
    src = root / "src"
    for i in range(files):
        folder = src / f"pkg{i % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_bytes(os.urandom(512).hex().encode())
    (src / ".dockerignore").write_text("**/__pycache__\n")
    return src


def time_hashing(src: Path, rounds: int, digest_cache: bool) -> list[float]:
    import flyte.imagebuild as ib

    times = []
    for _ in range(rounds):
        if not digest_cache:
            # A cache folder of its own each round: every file is read and hashed.
            os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()
        started = time.perf_counter()
        _ = (
            ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name="bench")
            .with_source_folder(src)
            .uri
        )
        times.append(time.perf_counter() - started)
    return times


_NOOP = """
import sys, time
started, cpu = time.perf_counter(), time.process_time()
import flyte.imagebuild as ib
image = {spec}
builder = ib.DockerBuilder({host!r}, buildkit=False, network_mode="none") if {host!r} else None
result = ib.build(image, builder=builder)
print(time.perf_counter() - started, result.found_in, result.uri, time.process_time() - cpu)
"""

_PUBLIC_HASH = """
import sys, time
from pathlib import Path
import flyte
image = flyte.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name="bench")
image = image.with_source_folder(Path({src!r}))
started = time.perf_counter()
image.uri
print(time.perf_counter() - started)
"""


def time_public_hashing(python: str, src: Path, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        out = subprocess.run(
            [python, "-c", _PUBLIC_HASH.format(src=str(src))], capture_output=True, text=True, check=True
        ).stdout.split()
        times.append(float(out[-1]))
    return times


def time_noop(
    spec: str, host: str | None, record: Path, rounds: int, forget: bool, cpu: list[float] | None = None
) -> tuple[list[float], str]:
    times, found = [], ""
    for _ in range(rounds):
        if forget:
            for f in record.glob("*"):
                f.unlink()
        out = subprocess.run(
            [sys.executable, "-c", _NOOP.format(spec=spec, host=host)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "FLYTE_IMAGEBUILD_RECORD_DIR": str(record)},
        ).stdout.split()
        times.append(float(out[0]))
        found = out[1]
        if cpu is not None:
            cpu.append(float(out[3]))
    return times, found


def summary(times: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docker-host", help="an engine to measure the engine existence check on")
    parser.add_argument("--base", default="local/debian-py:12", help="a base image already on that engine")
    parser.add_argument("--public", help="the python of a venv with the public flyte 2.12.1, for its hashing")
    args = parser.parse_args()

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    results: dict[str, object] = {
        "bench": "imagebuild",
        "time_utc": stamp,
        "files": FILES,
        "rounds": args.rounds,
        "loadavg_start": list(os.getloadavg()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = make_tree(root)
        saved = os.environ.get("XDG_CACHE_HOME")
        results["hash_10k_read_every_file"] = summary(time_hashing(src, args.rounds, digest_cache=False))
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
        time.sleep(2.5)  # files written in the last 2 s are never taken from the digest cache
        time_hashing(src, 1, digest_cache=True)  # fills the digest cache
        results["hash_10k_unchanged_files"] = summary(time_hashing(src, args.rounds, digest_cache=True))
        if args.public:
            results["public_2_12_1_hash_10k"] = summary(time_public_hashing(args.public, src, args.rounds))

        record = root / "record"
        big = (
            "ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name='bench')"
            f".with_source_folder({str(src)!r})"
        )
        debian = "ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name='bench')"
        small = f"{debian}.with_env_vars({{'A': '1'}})"
        import flyte.imagebuild as ib
        from flyte.imagebuild._record import BuildRecord, record_key

        if args.docker_host:
            base = f"ib.Image.from_base({args.base!r}).clone(name='bench', extendable=True)"
            big = f"{base}.with_source_folder({str(src)!r})"
            small = f"{base}.with_env_vars({{'A': '1'}})"
            for spec in (big, small):
                # Build once for real so the no-op rebuilds have something to find.
                subprocess.run(
                    [sys.executable, "-c", _NOOP.format(spec=spec, host=args.docker_host)],
                    check=True,
                    env={**os.environ, "FLYTE_IMAGEBUILD_RECORD_DIR": str(record)},
                    capture_output=True,
                )
        else:
            # No engine: record the images as built, as a previous build would have.
            scope = ib.DockerBuilder().record_scope()
            for spec in (big, small):
                uri = eval(spec, {"ib": ib}).uri  # the spec strings above, nothing else
                BuildRecord(record).add(record_key(uri, None, scope), uri=uri)

        for label, spec in (("noop_rebuild_10k_record", big), ("noop_rebuild_small_record", small)):
            cpu: list[float] = []
            times, found = time_noop(spec, args.docker_host, record, args.rounds, forget=False, cpu=cpu)
            results[label] = {**summary(times), "cpu_median_s": round(statistics.median(cpu), 4), "found_in": found}
        if args.docker_host:
            for label, spec in (("noop_rebuild_10k_engine", big), ("noop_rebuild_small_engine", small)):
                cpu = []
                times, found = time_noop(spec, args.docker_host, record, args.rounds, forget=True, cpu=cpu)
                results[label] = {**summary(times), "cpu_median_s": round(statistics.median(cpu), 4), "found_in": found}
    results["loadavg_end"] = list(os.getloadavg())
    line = json.dumps(results)
    print(line)
    out = Path(__file__).parent / "results" / f"{stamp}-imagebuild" / "imagebuild.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
