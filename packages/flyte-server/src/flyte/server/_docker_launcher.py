"""The ``docker`` executor: each attempt runs in a container of its task's image on a Docker engine.

Chosen with ``python -m flyte.server --executor docker`` (``ServerConfig(executor="docker")``);
the engine is ``$DOCKER_HOST`` (default: the local socket). The container gets:

- the task's image (``container.image`` of the task spec); a missing image is pulled only when its
  reference names a registry (``host[:port]/...``), otherwise the attempt fails to launch with a
  message that says to build it (``flyte build``);
- the attempt's command line, with the leading ``a0`` left to the image's ``PATH``;
- the variables the server sets for the attempt (``_U_EP_OVERRIDE``, ``RUN_NAME`` ...) and the
  task's and run's environment, but not the server's own environment (its ``PATH``, virtualenv
  or home folder mean nothing inside the image);
- the server's data dir mounted at the same path, so data-dir paths, inputs, outputs and the
  code bundle resolve as they do for a process, and the attempt's working folder as ``cwd``;
- the host's network (``network_mode=host``): the task reaches the server on loopback;
- the server's uid and gid, so what it writes into the data dir belongs to the server;
- ``init`` (docker-init) as PID 1, so SIGTERM reaches ``a0`` and everything it started.

stdout and stderr are streamed into the attempt's log files while it runs; the exit status is the
container's. Containers carry ``org.flyte.server.*`` labels and are always removed: when the
attempt ends, when it is killed, when the launcher closes, and (left over from a server that
died) when the first attempt of a new server on the same data dir starts.

The docker SDK (the ``docker`` extra) is imported only when this executor is chosen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flyte.server._process import A0, Launch, RunningAttempt

if TYPE_CHECKING:
    import docker

logger = logging.getLogger("flyte.server.docker")

LABEL = "org.flyte.server"
"""Every container of this executor has this label (value ``attempt``)."""
LABEL_DATA_DIR = "org.flyte.server.data-dir"
LABEL_INSTANCE = "org.flyte.server.instance"
ENGINE_ERROR_EXIT = 125
"""The exit status reported when the engine fails while an attempt runs (docker run's own code)."""
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_.-]+")


def _import_docker() -> Any:
    try:
        import docker
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ValueError(
            "the docker executor needs the docker SDK for Python: pip install 'flyte-server[docker]'"
        ) from e
    return docker


def _names_a_registry(image: str) -> bool:
    """Whether ``image``'s first path component is a registry host (``localhost``, ``a.b``, ``h:p``)."""
    first, sep, _ = image.partition("/")
    return bool(sep) and (first == "localhost" or "." in first or ":" in first)


def _container_env(env: dict[str, str]) -> dict[str, str]:
    """What the executor added to the server's environment: the task's, the run's and Flyte's."""
    return {k: v for k, v in env.items() if os.environ.get(k) != v}


class DockerLauncher:
    """Starts each attempt as a container of its task's image.

    Args:
        data_dir: the server's data dir, mounted at the same path in every container.
        host_a0: the path the executor put in place of ``a0`` (the server's own ``a0``); turned
            back into ``a0`` so the image's ``PATH`` finds the image's runtime.
        base_url: the engine; default ``$DOCKER_HOST`` or the local socket.
        init: run docker-init as PID 1 (signals reach ``a0``); turn off for engines without it.
    """

    def __init__(self, data_dir: Path, host_a0: str | None = None, base_url: str | None = None, init: bool = True):
        self._data_dir = Path(data_dir)
        self._host_a0 = host_a0
        self._base_url = base_url or os.environ.get("DOCKER_HOST") or None
        self._init = init
        self._instance = uuid.uuid4().hex[:12]
        self._client: Any = None
        self._swept = False
        self._lock = threading.Lock()
        self._running: set[DockerAttempt] = set()

    @property
    def engine(self) -> str:
        return self._base_url or "the local Docker engine"

    def _api(self) -> docker.APIClient:
        """The engine's API client, connected once; OSError when the engine cannot be reached."""
        with self._lock:
            if self._client is None:
                docker = _import_docker()
                try:
                    client = docker.APIClient(base_url=self._base_url) if self._base_url else docker.from_env().api
                    client.ping()
                except Exception as e:  # DockerException, requests' errors, a refused or missing socket
                    raise OSError(f"cannot reach the Docker engine at {self.engine}: {e}") from e
                self._client = client
            if not self._swept:
                self._swept = True
                self._remove_labelled({LABEL_DATA_DIR: str(self._data_dir)}, "left over from an earlier server")
            return self._client  # type: ignore[no-any-return]

    def _remove_labelled(self, labels: dict[str, str], why: str) -> None:
        assert self._client is not None
        filters = {"label": [f"{LABEL}=attempt", *(f"{k}={v}" for k, v in labels.items())]}
        try:
            found = self._client.containers(all=True, filters=filters)
        except Exception as e:
            logger.warning("cannot list containers on %s: %s", self.engine, e)
            return
        for c in found:
            logger.info("removing container %s (%s)", c["Id"][:12], why)
            with contextlib.suppress(Exception):
                self._client.remove_container(c["Id"], force=True)

    async def start(self, launch: Launch) -> RunningAttempt:
        if not launch.image:
            raise ValueError("the task has no container image; the docker executor runs each action in its image")
        api = await asyncio.to_thread(self._api)
        attempt = await asyncio.to_thread(self._create_and_start, api, launch)
        self._running.add(attempt)
        attempt.on_removed = self._running.discard
        return attempt

    def _argv(self, argv: list[str]) -> list[str]:
        if argv and self._host_a0 is not None and argv[0] == self._host_a0:
            return [A0, *argv[1:]]
        return list(argv)

    def _create_and_start(self, api: docker.APIClient, launch: Launch) -> DockerAttempt:
        docker = _import_docker()
        image = launch.image
        assert image is not None
        launch.cwd.mkdir(parents=True, exist_ok=True)
        launch.stdout.parent.mkdir(parents=True, exist_ok=True)
        env = _container_env(launch.env)
        if os.getuid() != 0 and "HOME" not in env:
            env["HOME"] = str(launch.cwd)  # an unknown uid gets HOME=/ , which it cannot write
        binds: dict[str, Mapping[str, str]] = {str(self._data_dir): {"bind": str(self._data_dir), "mode": "rw"}}
        if not launch.cwd.is_relative_to(self._data_dir):
            binds[str(launch.cwd)] = {"bind": str(launch.cwd), "mode": "rw"}
        run, action = launch.env.get("RUN_NAME", "run"), launch.env.get("ACTION_NAME", "action")
        attempt_no = launch.env.get("FLYTE_ATTEMPT_NUMBER", "0")
        name = _NAME_CHARS.sub("-", f"flyte-{run}-{action}-{attempt_no}-{uuid.uuid4().hex[:6]}")
        labels = {
            LABEL: "attempt",
            LABEL_DATA_DIR: str(self._data_dir),
            LABEL_INSTANCE: self._instance,
            "org.flyte.server.run": run,
            "org.flyte.server.action": action,
        }
        host_config = api.create_host_config(
            binds=binds,
            network_mode="host",
            init=self._init,
            # The log stream the attempt's files are filled from, whatever the engine's default.
            log_config=docker.types.LogConfig(type="json-file"),
        )
        kwargs: dict[str, Any] = {
            "command": self._argv(launch.argv),
            "environment": env,
            "working_dir": str(launch.cwd),
            "labels": labels,
            "host_config": host_config,
            "user": f"{os.getuid()}:{os.getgid()}",
            "name": name,
            "stdin_open": False,
            "tty": False,
        }
        try:
            created = api.create_container(image, **kwargs)
        except docker.errors.ImageNotFound:
            self._pull_or_explain(api, image)
            created = self._create_again(api, image, kwargs)
        except docker.errors.APIError as e:
            raise ValueError(f"cannot create a container of image {image!r} on {self.engine}: {_explain(e)}") from e
        except Exception as e:
            raise OSError(f"cannot reach the Docker engine at {self.engine}: {e}") from e
        container_id = str(created["Id"])
        try:
            api.start(container_id)
        except Exception as e:
            with contextlib.suppress(Exception):
                api.remove_container(container_id, force=True)
            message = _explain(e) if isinstance(e, docker.errors.APIError) else str(e)
            raise OSError(f"cannot start a container of image {image!r} on {self.engine}: {message}") from e
        return DockerAttempt(api, container_id, image, launch.stdout, launch.stderr)

    def _pull_or_explain(self, api: docker.APIClient, image: str) -> None:
        docker = _import_docker()
        missing = f"image {image!r} is not on the Docker engine at {self.engine}"
        if not _names_a_registry(image):
            raise ValueError(
                f"{missing}; build it there first (flyte build, or flyte.build(image) with DOCKER_HOST pointing "
                "at this engine), or give the task an image from a registry"
            )
        if "@" in image:  # by digest
            repository, tag = image, None
        elif ":" in image.rsplit("/", 1)[-1]:
            repository, _, tag = image.rpartition(":")
        else:
            repository, tag = image, "latest"
        try:
            api.pull(repository, tag=tag)
        except docker.errors.DockerException as e:
            raise ValueError(f"{missing} and pulling it failed: {_explain(e)}") from e

    def _create_again(self, api: docker.APIClient, image: str, kwargs: dict[str, Any]) -> Any:
        docker = _import_docker()
        try:
            return api.create_container(image, **kwargs)
        except docker.errors.DockerException as e:
            raise ValueError(f"cannot create a container of image {image!r} on {self.engine}: {_explain(e)}") from e

    async def close(self) -> None:
        for attempt in list(self._running):
            with contextlib.suppress(Exception):
                await attempt.kill(0)
        if self._client is not None:
            await asyncio.to_thread(self._remove_labelled, {LABEL_INSTANCE: self._instance}, "the server is stopping")
            await asyncio.to_thread(self._client.close)
            self._client = None


def _explain(e: BaseException) -> str:
    explanation = getattr(e, "explanation", None)
    return str(explanation) if explanation else str(e)


class DockerAttempt:
    """One attempt's container: its output is streamed to the log files until it exits."""

    def __init__(self, api: docker.APIClient, container_id: str, image: str, stdout: Path, stderr: Path):
        self._api = api
        self.id = container_id
        self.image = image
        self._stderr_path = stderr
        self._pumps = [
            threading.Thread(target=self._pump, args=(stdout, True), daemon=True, name=f"logs-{container_id[:12]}"),
            threading.Thread(target=self._pump, args=(stderr, False), daemon=True, name=f"logs-{container_id[:12]}"),
        ]
        for pump in self._pumps:
            pump.start()
        self._exit: asyncio.Future[int] | None = None
        self.on_removed: Any = None

    def _pump(self, path: Path, stdout: bool) -> None:
        """Copy one of the container's streams into ``path`` until the container exits."""
        with open(path, "wb") as out:
            try:
                for chunk in self._api.logs(self.id, stdout=stdout, stderr=not stdout, stream=True, follow=True):
                    out.write(chunk)
                    out.flush()
            except Exception as e:  # the engine went away, or the container was removed under us
                out.write(f"\n[flyte-server] the log stream of container {self.id[:12]} ended: {e}\n".encode())

    def _wait_blocking(self) -> int:
        try:
            status = self._api.wait(self.id, timeout=None)
            code = int(status.get("StatusCode", ENGINE_ERROR_EXIT))
        except Exception as e:
            with contextlib.suppress(OSError), open(self._stderr_path, "ab") as f:
                f.write(f"\n[flyte-server] lost container {self.id[:12]} on the Docker engine: {e}\n".encode())
            code = ENGINE_ERROR_EXIT
        for pump in self._pumps:
            pump.join(timeout=10)
        self._remove()
        return code

    def _remove(self) -> None:
        with contextlib.suppress(Exception):
            self._api.remove_container(self.id, force=True)
        if self.on_removed is not None:
            self.on_removed(self)

    def _exit_future(self) -> asyncio.Future[int]:
        if self._exit is None:
            self._exit = asyncio.ensure_future(asyncio.to_thread(self._wait_blocking))
        return self._exit

    async def wait(self) -> int:
        return await asyncio.shield(self._exit_future())

    async def kill(self, grace_seconds: float) -> int:
        """Stop the container (SIGTERM, SIGKILL after ``grace_seconds``), remove it; the exit status."""
        done = self._exit_future()
        if not done.done():
            try:
                await asyncio.to_thread(self._api.stop, self.id, timeout=max(0, math.ceil(grace_seconds)))
            except Exception:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self._api.kill, self.id)
        return await asyncio.shield(done)
