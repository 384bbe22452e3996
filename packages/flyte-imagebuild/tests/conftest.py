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
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import flyte.imagebuild as ib
from flyte.imagebuild import testing
from flyte.imagebuild.testing import BASE_IMAGE


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


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    import uv

    for running in testing.engine_for_tests(pytest.skip, pytest.fail, uv.find_uv_bin()):
        yield Engine(running.host, BASE_IMAGE)


# -- registries -----------------------------------------------------------------------------------


def _start_registry(root: Path, readonly: bool) -> Iterator[str]:
    try:
        running = testing.start_registry(root, readonly=readonly)
    except testing.EngineUnavailable as e:
        pytest.skip(str(e))
    try:
        yield running.address
    finally:
        running.stop()


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
