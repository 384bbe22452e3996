"""Real components for tests that build and run images, shared by this distribution's tests and the
embedded server's Docker-executor tests. Nothing here is pulled from the internet.

- `start_engine` / `stop_engine`: a private ``dockerd --iptables=false --bridge=none`` on a unix
  socket in a temp folder (no systemd, no default socket touched).
- `install_base_images`: a minimal Debian root (``debootstrap``, cached between runs in
  ``$FLYTE_DEV_IMAGE_CACHE``, default ``~/.cache/flyte-dev/images``) imported as `BASE_IMAGE`, and
  a stand-in for the uv image (`flyte.imagebuild._plan.UV_IMAGE`) made from a local uv binary.
- `start_registry`: Debian's ``docker-registry`` on ``127.0.0.1:<free port>``.
- `workspace_wheels`: this repository's distributions built as wheels (``uv build``) plus their
  pinned third-party dependencies (``pip download`` for the base image's Python, cached), so an
  image can install the runtime (and its ``a0``) offline with `Image.with_local_wheels`.

Each function raises `EngineUnavailable` (with the reason) when a tool it needs is missing, so a
test suite can skip instead of failing where the machine cannot run an engine;
`engine_for_tests` is that rule as a pytest fixture body.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from flyte.imagebuild._plan import UV_IMAGE

BASE_VERSION = "bookworm-minbase-python3-v1"
"""Bump to rebuild the cached base image on every machine."""
BASE_IMAGE = "local/debian-py:12"
BASE_PYTHON = (3, 11)
"""The Python of `BASE_IMAGE` (Debian bookworm's ``python3``)."""


class EngineUnavailable(RuntimeError):
    """A tool the real components need is missing or does not start on this machine."""


def image_cache() -> Path:
    return Path(os.environ.get("FLYTE_DEV_IMAGE_CACHE", Path.home() / ".cache" / "flyte-dev" / "images"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


# -- the Docker engine ----------------------------------------------------------------------------


@dataclass
class Engine:
    """A private ``dockerd``: its ``DOCKER_HOST`` URL, its process and folders."""

    host: str
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def exec_root(self) -> Path:
        return self.root / "e"


def start_engine() -> Engine:
    """Start ``dockerd`` on a unix socket in a fresh temp folder and wait until it answers.

    Raises:
        EngineUnavailable: ``dockerd`` is not installed, exits, or does not answer within 60 s.
    """
    from flyte.imagebuild._engine_probe import engine_has_image

    if shutil.which("dockerd") is None:
        raise EngineUnavailable("dockerd is not installed (apt-get install docker.io)")
    root = Path(tempfile.mkdtemp(prefix="fib-"))  # short: a unix socket path has ~100 characters
    sock = root / "docker.sock"
    log = (root / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [
            "dockerd",
            "--iptables=false",
            "--bridge=none",
            "--data-root",
            str(root / "d"),
            "--exec-root",
            str(root / "e"),
            "--pidfile",
            str(root / "docker.pid"),
            "-H",
            f"unix://{sock}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    engine = Engine(f"unix://{sock}", root, process)

    def ready() -> bool:
        if process.poll() is not None:
            raise EngineUnavailable(
                f"dockerd exited with {process.returncode}: {(root / 'dockerd.log').read_text()[-2000:]}"
            )
        if not sock.exists():  # still starting: asking now would be "cannot reach the engine"
            return False
        try:
            return engine_has_image(engine.host, "no-such-image:0") is False
        except OSError:
            return False

    try:
        wait_until(ready, "dockerd", timeout=60)
    except (EngineUnavailable, TimeoutError) as e:
        stop_engine(engine)
        raise EngineUnavailable(str(e)) from e
    return engine


def stop_engine(engine: Engine) -> None:
    """Stop ``dockerd``, unmount the network namespace it leaves behind, delete its folders."""
    engine.process.terminate()
    try:
        engine.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        engine.process.kill()
        engine.process.wait()
    # dockerd leaves its network namespace mounted when it runs without a bridge.
    netns = engine.exec_root / "netns" / "default"
    if os.path.ismount(netns):
        subprocess.run(["umount", str(netns)], check=False)
    shutil.rmtree(engine.root, ignore_errors=True)


def engine_for_tests(
    skip: Callable[[str], NoReturn], fail: Callable[[str], NoReturn], uv_binary: str | None = None
) -> Iterator[Engine]:
    """A pytest fixture's body: ``yield from engine_for_tests(pytest.skip, pytest.fail)`` gives a
    private engine with the base images installed, stopped afterwards.

    Where no engine can start the test is skipped, except under ``CI`` on a machine with
    ``dockerd`` installed (CI installs it on purpose): then it fails, so a broken engine cannot
    pass as a skip. ``uv_binary`` defaults to ``$UV``, then the uv on ``PATH``.
    """
    uv = uv_binary or os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        skip("no uv binary to make the uv stand-in image from")
    try:
        engine = start_engine()
    except EngineUnavailable as e:
        if os.environ.get("CI") and shutil.which("dockerd"):
            fail(f"dockerd did not start: {e}")
        skip(str(e))
    try:
        try:
            install_base_images(engine.host, uv)
        except EngineUnavailable as e:
            skip(str(e))
        yield engine
    finally:
        stop_engine(engine)


def base_rootfs_tar() -> Path:
    """A minimal Debian (python3, pip) root as a tar, made once per machine with debootstrap."""
    cache = image_cache()
    tar = cache / f"debian-py-{BASE_VERSION}.tar"
    if tar.exists():
        return tar
    if shutil.which("debootstrap") is None:
        raise EngineUnavailable("debootstrap is not installed (apt-get install debootstrap): no base image")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        root = Path(tmp) / "root"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-pip", "bookworm", str(root)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        partial = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        os.replace(partial, tar)
    return tar


def install_base_images(host: str, uv_binary: str) -> None:
    """Import `BASE_IMAGE` and make the uv stand-in image on the engine at ``host``."""
    import docker

    client = docker.DockerClient(base_url=host)
    try:
        repository, tag = BASE_IMAGE.rsplit(":", 1)
        client.api.import_image_from_file(str(base_rootfs_tar()), repository=repository, tag=tag)
        # The uv image the generated Dockerfiles copy uv from, made locally from the uv binary.
        with tempfile.TemporaryDirectory() as ctx:
            shutil.copy(uv_binary, Path(ctx) / "uv")
            (Path(ctx) / "Dockerfile").write_text("FROM scratch\nCOPY uv /uv\n")
            client.images.build(path=ctx, tag=UV_IMAGE, network_mode="none", rm=True)
    finally:
        client.close()


# -- a registry -----------------------------------------------------------------------------------


@dataclass
class Registry:
    address: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_registry(root: Path, readonly: bool = False) -> Registry:
    """Debian's ``docker-registry`` on ``127.0.0.1:<free port>``, storing under ``root``."""
    exe = shutil.which("docker-registry")
    if exe is None:
        raise EngineUnavailable("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    maintenance = "  maintenance:\n    readonly:\n      enabled: true\n" if readonly else ""
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n{maintenance}"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen([exe, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    registry = Registry(f"127.0.0.1:{port}", process)

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return False

    try:
        wait_until(ready, "docker-registry")
    except TimeoutError:
        registry.stop()
        raise
    return registry


# -- this repository's wheels ---------------------------------------------------------------------

RUNTIME_DISTRIBUTIONS = ("flyte-models", "flyte-storage", "flyte-types", "flyte-remote", "flyte-runtime")
"""What an image needs to run tasks through ``a0``: the runtime and the distributions it uses."""


def workspace_root(start: Path | None = None) -> Path:
    """The uv workspace this file (or ``start``) is in: the folder with ``uv.lock`` and ``packages/``."""
    here = (start or Path(__file__)).resolve()
    for folder in [here, *here.parents]:
        if (folder / "uv.lock").is_file() and (folder / "packages").is_dir():
            return folder
    raise EngineUnavailable(f"no uv workspace (uv.lock and packages/) above {here}: cannot build its wheels")


def workspace_wheels(
    dest: Path,
    uv_binary: str,
    distributions: tuple[str, ...] = RUNTIME_DISTRIBUTIONS,
    python_version: tuple[int, int] = BASE_PYTHON,
    root: Path | None = None,
) -> Path:
    """A folder of wheels that installs ``distributions`` offline on Linux x86-64 CPython.

    The distributions are built from the workspace with ``uv build`` (reproducible: unchanged
    sources give byte-identical wheels, so image tags stay stable); their third-party
    dependencies, pinned by ``uv export`` from ``uv.lock``, are fetched with ``pip download`` for
    ``python_version`` once and cached in `image_cache` by the pins' hash.

    Raises:
        EngineUnavailable: no workspace, or no ``pip`` to download with.
        subprocess.CalledProcessError: a build or a download failed.
    """
    ws = workspace_root(root)
    dest.mkdir(parents=True, exist_ok=True)
    for dist in distributions:
        subprocess.run(
            [uv_binary, "build", "--wheel", "--quiet", "--out-dir", str(dest), str(ws / "packages" / dist)],
            check=True,
            cwd=ws,
            capture_output=True,
        )
    export = [uv_binary, "export", "--frozen", "--no-emit-workspace", "--no-dev", "--no-hashes", "--no-header"]
    pins = subprocess.run(
        [*export, "--no-annotate", *(a for d in distributions for a in ("--package", d))],
        check=True,
        cwd=ws,
        capture_output=True,
        text=True,
    ).stdout
    tag = f"cp{python_version[0]}{python_version[1]}"
    key = hashlib.sha256(f"{tag}\n{pins}".encode()).hexdigest()[:16]
    deps = image_cache() / "wheels" / key
    if not deps.is_dir():
        pip = shutil.which("pip3") or shutil.which("pip")
        if pip is None:
            raise EngineUnavailable("no pip on PATH to download the runtime's dependencies as wheels")
        deps.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=deps.parent) as tmp:
            (Path(tmp) / "requirements.txt").write_text(pins)
            platforms = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
            target = ["--python-version", f"{python_version[0]}.{python_version[1]}", "--implementation", "cp"]
            target += ["--abi", tag, *(a for p in platforms for a in ("--platform", p))]
            target += ["-r", str(Path(tmp) / "requirements.txt"), "-d", str(Path(tmp) / "w")]
            subprocess.run(
                [pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", *target],
                check=True,
                capture_output=True,
            )
            os.replace(Path(tmp) / "w", deps)
    for wheel in deps.glob("*.whl"):
        shutil.copy(wheel, dest / wheel.name)
    return dest
