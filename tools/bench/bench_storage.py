"""Benchmark flyte.storage against plain fsspec/s3fs and the public Flyte 2.12.1 SDK.

    uv run --all-packages python -m tools.bench.bench_storage --runs 3 --large-mib 1024 \
        --small-count 10000 [--s3-server moto-keepalive|moto] [--public-python PATH]

Cases: put and get of one large file, and of a folder of many small files, on local disk and
against a moto S3 server on loopback (its own process). Every measurement runs in a fresh child
process (so imports, connection pools and peak memory are its own), and the table reports the
median of ``--runs`` runs, the ratio to plain fsspec, and the child's peak RSS. ``fsspec-seq``
uploads/downloads the small files one after another (the baseline of the >= 2x target);
``fsspec`` uses fsspec's own batched recursive put/get. ``flyte-2.12.1`` runs in the given venv
(the public SDK shares our import name, so it can never be installed beside ours).

The S3 server is moto, in its own process, in one of two set-ups (``--s3-server``):

- ``moto``: moto's own ``moto_server`` command (werkzeug's development server). It closes the
  connection after every response and starts a thread per connection, logs every request, and
  routes each request through moto's all-services dispatcher (a lock and a directory scan of
  moto's package per request): about 4.7 ms of server CPU per small PUT, more than the client
  spends, so with it the small-file cases measure mostly moto.
- ``moto-keepalive`` (default): the same moto S3 application (``create_backend_app("s3")``)
  served by hypercorn (already in the workspace) with HTTP keep-alive and no access log: about
  2.6 ms per small PUT. Same requests, same responses, same workload.

Besides wall time each measurement records the CPU seconds of the client process and of the
server process, so a table taken on a busy machine can still be read: with two cores, a
sequential client costs client + server CPU per file, a concurrent one at best the larger of
the two. Raw JSON lines go to ``tools/bench/results/<UTC time>-storage/storage.jsonl``.
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
from typing import Any

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
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": elapsed,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


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


def start_s3_server(kind: str) -> tuple[subprocess.Popen[str], str]:
    """Start moto on a free loopback port; return the process and its endpoint URL."""
    if kind == "moto":
        venv_exe = Path(sys.executable).parent / "moto_server"  # this venv's moto, not one on PATH
        exe = str(venv_exe) if venv_exe.exists() else (shutil.which("moto_server") or "moto_server")
        cmd = [exe, "-H", "127.0.0.1", "-p", "0"]
    elif kind == "moto-keepalive":
        cmd = [sys.executable, __file__, "--serve-s3"]
    else:
        raise SystemExit(f"--s3-server: expected 'moto' or 'moto-keepalive', got {kind!r}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # "Running on http://127.0.0.1:PORT"
        if "Running on http" in line:
            endpoint = line.split("Running on ")[1].split()[0].rstrip("/")
            # moto_server logs every request; drain the pipe so it never blocks.
            threading_drain(proc)
            _wait_listening(endpoint)
            return proc, endpoint
    raise SystemExit(f"{kind} exited before listening")


def _wait_listening(endpoint: str) -> None:
    import socket

    host, port = endpoint.removeprefix("http://").split(":")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def serve_s3() -> None:
    """Serve moto's S3 application with hypercorn (keep-alive, no access log) until killed."""
    import socket

    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from moto.server import create_backend_app

    with socket.socket() as probe:  # a free port (hypercorn reports no port for ":0")
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.keep_alive_timeout = 75
    config.wsgi_max_body_size = 64 * 2**20  # a multipart part (16 MiB) plus headroom
    print(f"Running on http://127.0.0.1:{port}", flush=True)
    asyncio.run(serve(_nonempty_body(create_backend_app("s3")), config))  # type: ignore[arg-type]


def _nonempty_body(app):  # type: ignore[no-untyped-def]
    """hypercorn's WSGI adapter starts the response on the first body chunk and fails on an
    empty body (a HEAD, a 204): hand it one empty chunk then."""

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        body = app(environ, start_response)
        try:
            sent = False
            for chunk in body:
                sent = True
                yield chunk
            if not sent:
                yield b""
        finally:
            if hasattr(body, "close"):
                body.close()

    return wrapped


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc), 0.0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def measure(python: str, impl: str, op: str, src: str, dst: str, endpoint: str, server_pid: int) -> dict[str, float]:
    if "://" not in dst:  # the public SDK's local put does not create parent folders
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    cmd = [python, __file__, "--child", impl, op, src, dst, endpoint]
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    server_cpu = process_cpu_seconds(server_pid)
    load = os.getloadavg()[0]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{impl} {op} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    # The server's CPU over the whole child (its start-up included): only S3 cases use it.
    result["server_cpu_seconds"] = (
        round(process_cpu_seconds(server_pid) - server_cpu, 3) if "s3://" in src + dst else 0.0
    )
    result["load_1m"] = load
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:7])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-s3":
        serve_s3()
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--table-from":
        table_from(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--small-count", type=int, default=10_000)
    parser.add_argument("--small-bytes", type=int, default=1024)
    parser.add_argument("--public-python", default=None, help="default: the venv of tools/public_flyte.py")
    parser.add_argument("--backends", default="local,s3")
    parser.add_argument("--cases", default="large,dir")
    parser.add_argument("--impls", default="flyte.storage,fsspec,fsspec-seq,flyte-2.12.1")
    parser.add_argument("--s3-server", default="moto-keepalive", choices=["moto-keepalive", "moto"])
    parser.add_argument("--out", default=None, help="JSON lines file (default: tools/bench/results/<time>-storage/)")
    args = parser.parse_args()
    wanted = args.impls.split(",")
    impls = [(i, sys.executable) for i in ("flyte.storage", "fsspec", "fsspec-seq") if i in wanted]
    if "flyte-2.12.1" in wanted:
        if args.public_python is None:
            from tools.public_flyte import public_python

            args.public_python = str(public_python())
        if Path(args.public_python).exists():
            impls.append(("flyte-2.12.1", args.public_python))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_path = Path(args.out) if args.out else Path(__file__).parent / "results" / f"{stamp}-storage" / "storage.jsonl"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    server, endpoint = start_s3_server(args.s3_server)
    setup = {
        "bench": "storage",
        "utc": stamp,
        "s3_server": args.s3_server,
        "large_mib": args.large_mib,
        "small_count": args.small_count,
        "small_bytes": args.small_bytes,
        "runs": args.runs,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(setup), flush=True)
    try:
        import botocore.session

        client = botocore.session.get_session().create_client(
            "s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=KEY, region_name="us-east-1"
        )
        client.create_bucket(Bucket=BUCKET)
        cases = args.cases.split(",")
        large, small = make_data(
            root, args.large_mib if "large" in cases else 0, args.small_count if "dir" in cases else 0, args.small_bytes
        )
        rows = []
        with open(out_path, "a") as raw:
            for backend in args.backends.split(","):
                for case, src_local in (("large", large), ("dir", small)):
                    if case not in cases:
                        continue
                    for impl, python in impls:
                        if case == "large" and impl == "fsspec-seq":
                            continue
                        results = run_case(args, backend, case, impl, python, src_local, root, endpoint, server, client)
                        for direction in ("put", "get"):
                            for run, r in enumerate(results[direction]):
                                line = {**setup, "backend": backend, "case": case, "op": direction, "impl": impl}
                                raw.write(json.dumps({**line, "run": run, **r}) + "\n")
                            row = summarize(backend, case, direction, impl, results[direction])
                            rows.append(row)
                            print(
                                f"{backend:5} {case:5} {direction} {impl:14} {row['seconds']:8.2f}s "
                                f"cpu {row['cpu_seconds']:6.2f} srv {row['server_cpu_seconds']:6.2f} "
                                f"{row['peak_rss_mib']:6.0f} MiB load {row['load_1m']:.1f}",
                                flush=True,
                            )
        print_table(rows, args)
        print(f"\nraw results: {out_path}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)


def run_case(args, backend, case, impl, python, src_local, root, endpoint, server, client):  # type: ignore[no-untyped-def]
    results: dict[str, list[dict[str, float]]] = {"put": [], "get": []}
    for run in range(args.runs):
        tag = f"{impl}-{case}-{run}"
        if backend == "s3":
            remote = f"s3://{BUCKET}/{tag}" + ("" if case == "dir" else "/large.bin")
        else:
            remote = str(root / "remote" / tag / ("" if case == "dir" else "large.bin")).rstrip("/")
        op = "dir" if case == "dir" else "file"
        results["put"].append(measure(python, impl, f"{op}-put", str(src_local), remote, endpoint, server.pid))
        back = str(root / "back" / tag / ("" if case == "dir" else "large.bin")).rstrip("/")
        results["get"].append(measure(python, impl, f"{op}-get", remote, back, endpoint, server.pid))
        check_same(src_local, Path(back))
        shutil.rmtree(root / "back" / tag, ignore_errors=True)
        shutil.rmtree(root / "remote" / tag, ignore_errors=True)
        if backend == "s3":  # free moto's memory between runs
            _empty_prefix(client, tag)
    return results


def check_same(src: Path, back: Path) -> None:
    """The round trip brought back every file with its size (a fast transfer that drops files is no win)."""
    if src.is_file():
        if back.stat().st_size != src.stat().st_size:
            raise RuntimeError(f"{back}: {back.stat().st_size} bytes, expected {src.stat().st_size}")
        return
    want = {p.relative_to(src): p.stat().st_size for p in src.rglob("*") if p.is_file()}
    got = {p.relative_to(back): p.stat().st_size for p in back.rglob("*") if p.is_file()}
    if want != got:
        missing = sorted(set(want) - set(got))[:3]
        raise RuntimeError(f"{back}: {len(got)} files back of {len(want)} (missing e.g. {missing})")


def summarize(backend: str, case: str, direction: str, impl: str, runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "backend": backend,
        "case": case,
        "op": direction,
        "impl": impl,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "server_cpu_seconds": statistics.median(r["server_cpu_seconds"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "load_1m": statistics.median(r["load_1m"] for r in runs),
    }


def _empty_prefix(client, prefix: str) -> None:  # type: ignore[no-untyped-def]
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys[i : i + 1000]})


def table_from(path: Path) -> None:
    """Print the table of a JSON lines file written by (several) earlier runs."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict[tuple[str, str, str, str], list[dict[str, float]]] = {}
    for line in lines:
        backend = line["backend"] if line["backend"] == "local" else f"{line['backend']} ({line['s3_server']})"
        groups.setdefault((backend, line["case"], line["op"], line["impl"]), []).append(line)
    order = {"flyte.storage": 0, "fsspec": 1, "fsspec-seq": 2, "flyte-2.12.1": 3}
    rows = [
        summarize(*key, runs)
        for key, runs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], order.get(kv[0][3], 9)))
    ]
    first = lines[0]
    runs = sorted({len(v) for v in groups.values()})
    args = argparse.Namespace(
        large_mib=first["large_mib"],
        small_count=first["small_count"],
        small_bytes=first["small_bytes"],
        runs="/".join(map(str, runs)),
        s3_server=", ".join(sorted({line["s3_server"] for line in lines})),
    )
    print_table(rows, args)


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        return (r["backend"], r["case"], r["op"])

    base = {key(r): r["seconds"] for r in rows if r["impl"] == "fsspec"}
    seq = {key(r): r["seconds"] for r in rows if r["impl"] == "fsspec-seq"}
    print()
    sizes = f"large = {args.large_mib} MiB file; dir = {args.small_count} files of {args.small_bytes} B"
    print(f"{sizes}; median of {args.runs} runs; S3 server: {args.s3_server}")
    print()
    print(
        "| backend | case | op | implementation | median s | vs fsspec | speed-up vs fsspec-seq "
        "| client CPU s | server CPU s | peak RSS MiB | load 1m |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        secs = r["seconds"]
        ratio = f"{secs / base[key(r)]:.2f}x" if key(r) in base else "-"
        speedup = f"{seq[key(r)] / secs:.2f}x" if key(r) in seq else "-"
        server = f"{r['server_cpu_seconds']:.1f}" if r["backend"] != "local" else "-"
        print(
            f"| {r['backend']} | {r['case']} | {r['op']} | {r['impl']} | {secs:.2f} | {ratio} | {speedup} "
            f"| {r['cpu_seconds']:.1f} | {server} | {r['peak_rss_mib']:.0f} | {r['load_1m']:.1f} |"
        )


if __name__ == "__main__":
    main()
