"""``frontdesk worker MODULE:APP``: run an app's handlers as one process or a supervised set."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Annotated

import typer

from frontdesk.cli.common import fail
from frontdesk.worker.app import App
from frontdesk.worker.config import default_worker_id
from frontdesk.worker.errors import PolicyError


def load_app(target: str) -> App:
    """Import ``module:attribute`` (the current directory is importable, as with uvicorn)."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise typer.BadParameter(f"expected MODULE:APP, got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    app = getattr(module, attr, None)
    if not isinstance(app, App):
        raise typer.BadParameter(f"{target} is not a frontdesk.App (got {type(app).__name__})")
    return app


def worker(
    target: Annotated[str, typer.Argument(help="The app to run, as module.path:app.")],
    *,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            "-p",
            min=1,
            help="Run N supervised processes in the group, each restarted if it dies. "
            "Without it, one unsupervised process runs in the foreground.",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve Prometheus /metrics, /healthz and /readyz here "
            "(process i of N uses port + i)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Handlers running at once per process.")
    ] = None,
    worker_id: Annotated[
        str | None,
        typer.Option(
            help="Stable id of this process (e.g. the pod name); names its "
            "transactional id. Default: <host>-<pid>."
        ),
    ] = None,
    group_id: Annotated[str | None, typer.Option(help="Override the consumer group.")] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Serve only this dedicated tenant's topics.")
    ] = None,
    commit_interval: Annotated[
        float | None, typer.Option(help="Seconds between checkpoints.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Python logging level.")] = "INFO",
    slot: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run the handlers of MODULE:APP until SIGTERM (drains in-flight work, then commits)."""
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s",
    )
    if processes is not None and slot is None:
        if worker_id is not None:
            fail("--worker-id names one process; with --processes the slots are named")
        from frontdesk.worker.supervisor import Supervisor  # noqa: PLC0415 - only here

        args: list[str] = ["--log-level", log_level]
        for name, value in (
            ("--concurrency", concurrency),
            ("--group-id", group_id),
            ("--tenant", tenant),
            ("--commit-interval", commit_interval),
        ):
            if value is not None:
                args += [name, str(value)]
        if metrics_port is not None:
            args += ["--metrics-port", str(metrics_port)]
        raise typer.Exit(Supervisor(target, processes, args).run())
    app = load_app(target)
    overrides: dict[str, object] = {}
    if slot is not None:
        overrides["worker_id"] = worker_id or default_worker_id(slot)
        if metrics_port is not None:
            metrics_port += slot
    elif worker_id is not None:
        overrides["worker_id"] = worker_id
    for name, value in (
        ("concurrency", concurrency),
        ("group_id", group_id),
        ("tenant", tenant),
        ("commit_interval", commit_interval),
    ):
        if value is not None:
            overrides[name] = value
    try:
        code = app.run(metrics_port=metrics_port, **overrides)
    except PolicyError as exc:
        fail(str(exc))
    raise typer.Exit(code)


def main() -> None:
    """``python -m frontdesk.worker``: what the supervisor starts for each slot."""
    typer.run(worker)
