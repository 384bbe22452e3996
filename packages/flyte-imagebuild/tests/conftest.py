"""Real components for the image build tests, started on loopback and unix sockets, always stopped.

- ``engine``: a private ``dockerd`` (no iptables, no bridge) on a unix socket in a temp folder,
  with a minimal Debian base image (debootstrap, cached between runs) and a stand-in for the uv
  image made from the uv binary of the dev group: nothing is ever pulled.
- ``registry``: Debian's ``docker-registry`` on ``127.0.0.1:<free port>``; ``readonly_registry``
  accepts reads and refuses pushes.
- ``wheels``: a folder of two small wheels (one depends on the other) for offline installs.

Every engine test is skipped, with the reason, only when dockerd is missing or cannot start here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import flyte.imagebuild as ib
from flyte.imagebuild._plan import UV_IMAGE

# Bump to rebuild the cached base image on every machine.
BASE_VERSION = "bookworm-minbase-python3-v1"
BASE_IMAGE = "local/debian-py:12"
IMAGE_CACHE = Path(os.environ.get("FLYTE_DEV_IMAGE_CACHE", Path.home() / ".cache" / "flyte-dev" / "images"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


@pytest.fixture(autouse=True)
def record_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts with an empty record of built images."""
    folder = tmp_path / "record"
    monkeypatch.setenv("FLYTE_IMAGEBUILD_RECORD_DIR", str(folder))
    return folder


# -- the Docker engine ----------------------------------------------------------------------------


@dataclass
class Engine:
    host: str
    base_image: str

    def client(self):  # type: ignore[no-untyped-def]
        import docker

        return docker.DockerClient(base_url=self.host)

    def builder(self, **kwargs: object) -> ib.DockerBuilder:
        """A builder on this engine; classic (SDK) builds unless ``buildkit=True``, no network."""
        kwargs.setdefault("buildkit", False)
        kwargs.setdefault("network_mode", "none")
        return ib.DockerBuilder(self.host, **kwargs)  # type: ignore[arg-type]

    def has(self, uri: str) -> bool:
        import docker.errors

        try:
            self.client().images.get(uri)
        except docker.errors.ImageNotFound:
            return False
        return True

    def run(self, uri: str, *command: str) -> str:
        """Run ``command`` in a throwaway container of ``uri`` (no network) and return its output."""
        out = self.client().containers.run(uri, list(command), network_mode="none", remove=True)
        return bytes(out).decode().strip()

    def remove(self, uri: str) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.ImageNotFound):
            self.client().images.remove(uri, force=True)


def _start_dockerd(root: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    exec_root = root / "e"
    data_root = root / "d"
    sock = root / "docker.sock"
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [
            "dockerd",
            "--iptables=false",
            "--bridge=none",
            "--data-root",
            str(data_root),
            "--exec-root",
            str(exec_root),
            "--pidfile",
            str(root / "docker.pid"),
            "-H",
            f"unix://{sock}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    host = f"unix://{sock}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"dockerd exited with {proc.returncode}: {(root / 'dockerd.log').read_text()[-2000:]}")
        if not sock.exists():  # still starting: asking now would be "cannot reach the engine"
            return False
        try:
            return bool(ib.DockerBuilder(host)._engine_has("no-such-image:0") is False)
        except OSError:
            return False

    try:
        wait_until(ready, "dockerd", timeout=60)
    except Exception:
        _stop_dockerd(proc, exec_root)
        raise
    return proc, host, exec_root


def _stop_dockerd(proc: subprocess.Popen[bytes], exec_root: Path) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    # dockerd leaves its network namespace mounted when it runs without a bridge.
    netns = exec_root / "netns" / "default"
    if os.path.ismount(netns):
        subprocess.run(["umount", str(netns)], check=False)


def _base_rootfs_tar() -> Path:
    """A minimal Debian (python3, pip) root as a tar, made once per machine with debootstrap."""
    tar = IMAGE_CACHE / f"debian-py-{BASE_VERSION}.tar"
    if tar.exists():
        return tar
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap): no base image to build on")
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=IMAGE_CACHE) as tmp:
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


def _install_images(engine: Engine) -> None:
    client = engine.client()
    repository, tag = engine.base_image.rsplit(":", 1)
    client.api.import_image_from_file(str(_base_rootfs_tar()), repository=repository, tag=tag)
    # The uv image the generated Dockerfiles copy uv from, made locally from the uv binary.
    import uv

    with tempfile.TemporaryDirectory() as ctx:
        shutil.copy(uv.find_uv_bin(), Path(ctx) / "uv")
        (Path(ctx) / "Dockerfile").write_text("FROM scratch\nCOPY uv /uv\n")
        client.images.build(path=ctx, tag=UV_IMAGE, network_mode="none", rm=True)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd is not installed (apt-get install docker.io)")
    root = Path(tempfile.mkdtemp(prefix="fib-"))  # short: a unix socket path has ~100 characters
    try:
        proc, host, exec_root = _start_dockerd(root)
    except (OSError, RuntimeError, TimeoutError) as e:
        shutil.rmtree(root, ignore_errors=True)
        if os.environ.get("CI"):  # CI installs the engine: not starting is a failure, not a skip
            pytest.fail(f"dockerd did not start: {e}")
        pytest.skip(f"dockerd cannot start on this machine: {e}")
    try:
        engine = Engine(host, BASE_IMAGE)
        _install_images(engine)
        yield engine
    finally:
        _stop_dockerd(proc, exec_root)
        shutil.rmtree(root, ignore_errors=True)


# -- registries -----------------------------------------------------------------------------------


def _start_registry(root: Path, readonly: bool) -> Iterator[str]:
    exe = shutil.which("docker-registry")
    if exe is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
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
    proc = subprocess.Popen([exe, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return False

    try:
        wait_until(ready, "docker-registry")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _start_registry(tmp_path_factory.mktemp("registry"), readonly=False)


@pytest.fixture(scope="session")
def readonly_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _start_registry(tmp_path_factory.mktemp("registry-ro"), readonly=True)


# -- wheels ---------------------------------------------------------------------------------------


def write_wheel(folder: Path, name: str, version: str, modules: dict[str, str], requires: list[str]) -> Path:
    """A pure-Python wheel with a correct RECORD, written by hand (no build backend, no network)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {f"{module}.py": source for module, source in modules.items()}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: flyte-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            # Fixed timestamps: the same wheel content on every run keeps image tags stable.
            z.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return wheel


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    write_wheel(folder, "probe-dep", "1.0", {"probe_dep": "VALUE = 'from probe-dep'\n"}, [])
    write_wheel(
        folder,
        "probe",
        "1.0",
        {"probe": "from probe_dep import VALUE\n\nGREETING = 'probe sees ' + VALUE\n"},
        ["probe-dep"],
    )
    return folder
