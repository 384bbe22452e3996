"""Which backend a command talks to, and the zero-config path to one.

In order: ``--endpoint``, the config file, ``FLYTE_ADMIN_ENDPOINT``; then the embedded server if
one is running for the default data folder (so ``flyte get run`` finds the runs a zero-config
``flyte run`` made). Commands that create work (``run``, ``deploy``, ``rerun``) go one step
further: with nothing configured they start the embedded server in the background and say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import click

from flyte.cli._context import CLIContext

# The zero-config server's port; FLYTE_SERVER_PORT chooses another (0: any free port).
DEFAULT_PORT = 8090


@dataclass(frozen=True)
class Backend:
    endpoint: str
    insecure: bool
    org: str | None
    project: str | None
    domain: str | None
    local_server: bool  # the embedded server found or started by the CLI


def resolve(obj: CLIContext, *, start: bool, project: str | None = None, domain: str | None = None) -> Backend:
    """The backend of this command; with ``start``, start the embedded server when none is configured."""
    cfg = obj.config
    project = project or cfg.task.project
    domain = domain or cfg.task.domain
    if cfg.platform.endpoint:
        return Backend(cfg.platform.endpoint, cfg.platform.insecure, cfg.task.org, project, domain, False)
    from flyte.cli._server import default_data_dir, ensure_server, read_info

    data_dir = default_data_dir().expanduser().resolve()
    info = read_info(data_dir)
    if info is None and not start:
        raise click.UsageError(
            "no backend configured: pass --endpoint HOST:PORT, set admin.endpoint in a config file "
            "(`flyte create config`) or FLYTE_ADMIN_ENDPOINT, or start the embedded one with `flyte start server`"
        )
    if info is None:
        configured_port = os.environ.get("FLYTE_SERVER_PORT")
        try:
            info, _ = ensure_server(data_dir, int(configured_port or DEFAULT_PORT))
        except click.ClickException:
            if configured_port is not None:
                raise
            # 8090 is taken by something else: any free port serves a zero-config run as well.
            info, _ = ensure_server(data_dir, 0)
        click.echo(
            f"No backend configured: started the embedded Flyte server at {info.url} (pid {info.pid}, "
            f"data in {data_dir}). Stop it with `flyte stop server`.",
            err=True,
        )
    elif start:
        click.echo(f"Using the embedded Flyte server at {info.url} (stop it with `flyte stop server`)", err=True)
    return Backend(info.url, True, cfg.task.org, project, domain, True)


def connect(obj: CLIContext, *, start: bool = False, project: str | None = None, domain: str | None = None) -> Backend:
    """Resolve the backend and make it the one every ``flyte.remote`` call uses."""
    from flyte.remote import configure

    backend = resolve(obj, start=start, project=project, domain=domain)
    configure(
        backend.endpoint, insecure=backend.insecure, org=backend.org, project=backend.project, domain=backend.domain
    )
    return backend


def init_runtime(backend: Backend, **kwargs: object) -> None:
    """``flyte.init`` for the backend (runs and deploys go through the runtime)."""
    import flyte.runtime as runtime

    runtime.init(
        endpoint=backend.endpoint,
        insecure=backend.insecure,
        org=backend.org,
        project=backend.project,
        domain=backend.domain,
        **kwargs,  # type: ignore[arg-type]
    )
