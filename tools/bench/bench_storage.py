"""Benchmark flyte.storage against plain fsspec/s3fs and the public Flyte 2.12.1 SDK.

    uv run python -m tools.bench.bench_storage --runs 3 --large-mib 1024 --small-count 10000 \
        [--public-python PATH]

Cases: put and get of one large file, and of a folder of many small files, on local disk and
against a moto S3 server on loopback (its own process). Every measurement runs in a fresh child
process (so imports, connection pools and peak memory are its own), and the table reports the
median of ``--runs`` runs, the ratio to plain fsspec, and the child's peak RSS. ``fsspec-seq``
uploads/downloads the small files one after another (the baseline of the >= 2x target);
``fsspec`` uses fsspec's own batched recursive put/get. ``flyte-2.12.1`` runs in the given venv
(the public SDK shares our import name, so it can never be installed beside ours).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUCKET = "bench"
KEY = "testing"


# ------------------------------------------------------------------ child: one measurement


def _s3fs(endpoint: str):  # type: ignore[no-untyped-def]
    import s3fs

    return s3fs.S3FileSystem(key=KEY, secret=KEY, endpoint_url=endpoint, skip_instance_cache=True)


def child(impl: str, op: str, src: str, dst: str, endpoint: str) -> dict[str, float]:
    recursive = op.startswith("dir")
    # Imports and configuration happen before the clock starts: the table compares transfers.
    if impl == "flyte.storage":
        import flyte.storage as storage

        if endpoint:
            storage.configure(storage.S3(endpoint=endpoint, access_key_id=KEY, secret_access_key=KEY))
    elif impl == "flyte-2.12.1":
        import flyte
        import flyte.storage as storage

        if endpoint:
            flyte.init(storage=storage.S3(endpoint=endpoint, access_key_id=KEY, secret_access_key=KEY))
    else:
        import fsspec
    started = time.perf_counter()
    if impl in ("flyte.storage", "flyte-2.12.1"):
        fn = storage.put if op.endswith("put") else storage.get
        asyncio.run(fn(src, dst, recursive=recursive))
    else:
        remote = src.startswith("s3://") or dst.startswith("s3://")
        fs = _s3fs(endpoint) if remote else fsspec.filesystem("file", auto_mkdir=True)
        strip = (lambda p: p.removeprefix("s3://")) if remote else (lambda p: p)
        if impl == "fsspec-seq" and recursive:
            _sequential(fs, op, src, dst, strip, remote)
        elif op.endswith("put"):
            fs.put(src, strip(dst), recursive=recursive)
        else:
            fs.get(strip(src), dst, recursive=recursive)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _sequential(fs, op, src, dst, strip, remote) -> None:  # type: ignore[no-untyped-def]
    if op.endswith("put"):
        for folder, _, files in os.walk(src):
            for name in files:
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, src).replace(os.sep, "/")
                target = strip(dst.rstrip("/") + "/" + rel)
                if not remote:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                fs.put_file(path, target)
    else:
        base = strip(src).rstrip("/")
        for key in fs.find(base):
            target = os.path.join(dst, key[len(base) + 1 :])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fs.get_file(key, target)


# ------------------------------------------------------------------ parent: the run


def start_moto() -> tuple[subprocess.Popen[str], str]:
    exe = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # "Running on http://127.0.0.1:PORT"
        if "Running on http" in line:
            endpoint = line.split("Running on ")[1].split()[0].rstrip("/")
            # moto keeps logging every request; drain the pipe so it never blocks.
            threading_drain(proc)
            return proc, endpoint
    raise SystemExit("moto_server exited before listening")


def threading_drain(proc: subprocess.Popen[str]) -> None:
    import threading

    def drain() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass

    threading.Thread(target=drain, daemon=True).start()


def make_data(root: Path, large_mib: int, small_count: int, small_bytes: int) -> tuple[Path, Path]:
    large = root / "large.bin"
    with open(large, "wb") as f:
        block = os.urandom(2**20)
        for _ in range(large_mib):
            f.write(block)
    small = root / "small"
    for i in range(small_count):
        path = small / f"d{i % 100:02d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(small_bytes))
    return large, small


def measure(python: str, impl: str, op: str, src: str, dst: str, endpoint: str) -> dict[str, float]:
    if "://" not in dst:  # the public SDK's local put does not create parent folders
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    cmd = [python, __file__, "--child", impl, op, src, dst, endpoint]
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{impl} {op} failed:\n{out.stderr[:2500]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:7])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--small-count", type=int, default=10_000)
    parser.add_argument("--small-bytes", type=int, default=1024)
    parser.add_argument("--public-python", default=None, help="default: the venv of tools/public_flyte.py")
    parser.add_argument("--backends", default="local,s3")
    args = parser.parse_args()
    impls = [("flyte.storage", sys.executable), ("fsspec", sys.executable), ("fsspec-seq", sys.executable)]
    if args.public_python is None:
        from tools.public_flyte import public_python

        args.public_python = str(public_python())
    if Path(args.public_python).exists():
        impls.append(("flyte-2.12.1", args.public_python))
    root = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    moto, endpoint = start_moto()
    try:
        import botocore.session

        client = botocore.session.get_session().create_client(
            "s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=KEY, region_name="us-east-1"
        )
        client.create_bucket(Bucket=BUCKET)
        large, small = make_data(root, args.large_mib, args.small_count, args.small_bytes)
        rows = []
        for backend in args.backends.split(","):
            for case, src_local in (("large", large), ("dir", small)):
                for impl, python in impls:
                    if case == "large" and impl == "fsspec-seq":
                        continue
                    results: dict[str, list[dict[str, float]]] = {"put": [], "get": []}
                    for run in range(args.runs):
                        tag = f"{impl}-{case}-{run}"
                        if backend == "s3":
                            remote = f"s3://{BUCKET}/{tag}" + ("" if case == "dir" else "/large.bin")
                        else:
                            remote = str(root / "remote" / tag / ("" if case == "dir" else "large.bin")).rstrip("/")
                        op = "dir" if case == "dir" else "file"
                        results["put"].append(measure(python, impl, f"{op}-put", str(src_local), remote, endpoint))
                        back = str(root / "back" / tag / ("" if case == "dir" else "large.bin")).rstrip("/")
                        results["get"].append(measure(python, impl, f"{op}-get", remote, back, endpoint))
                        shutil.rmtree(root / "back" / tag, ignore_errors=True)
                        shutil.rmtree(root / "remote" / tag, ignore_errors=True)
                        if backend == "s3":  # free moto's memory between runs
                            _empty_prefix(client, tag)
                    for direction in ("put", "get"):
                        secs = statistics.median(r["seconds"] for r in results[direction])
                        rss = max(r["peak_rss_mib"] for r in results[direction])
                        rows.append((backend, case, direction, impl, secs, rss))
                        print(f"{backend:5} {case:5} {direction} {impl:14} {secs:8.2f}s {rss:8.0f} MiB", flush=True)
        print_table(rows, args)
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(root, ignore_errors=True)


def _empty_prefix(client, prefix: str) -> None:  # type: ignore[no-untyped-def]
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys[i : i + 1000]})


def print_table(rows: list[tuple[str, str, str, str, float, float]], args: argparse.Namespace) -> None:
    base = {(b, c, d): s for b, c, d, i, s, _ in rows if i == "fsspec"}
    seq = {(b, c, d): s for b, c, d, i, s, _ in rows if i == "fsspec-seq"}
    print()
    sizes = f"large = {args.large_mib} MiB file; dir = {args.small_count} files of {args.small_bytes} B"
    print(f"{sizes}; median of {args.runs} runs")
    print()
    print("| backend | case | op | implementation | median s | vs fsspec | vs fsspec-seq | peak RSS MiB |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for b, c, d, impl, secs, rss in rows:
        ratio = f"{secs / base[(b, c, d)]:.2f}x" if (b, c, d) in base else "-"
        ratio_seq = f"{secs / seq[(b, c, d)]:.2f}x" if (b, c, d) in seq else "-"
        print(f"| {b} | {c} | {d} | {impl} | {secs:.2f} | {ratio} | {ratio_seq} | {rss:.0f} |")


if __name__ == "__main__":
    main()
