"""``frontdesk broker start|stop|status|logs``: the embedded local Kafka broker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from frontdesk.broker import DEFAULT_PORT, BrokerState, LocalBroker
from frontdesk.cli.common import console, fail, friendly_errors, settings

app = typer.Typer(help="Run a real single-node Kafka broker locally (no Docker needed).")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Broker storage; default ~/.local/share/frontdesk/broker."),
]


Port = Annotated[
    int | None,
    typer.Option(
        help="The client port the broker was started with: act only if the data dir's broker "
        "listens there (a broker is found by its data dir)."
    ),
]


def _broker(data_dir: Path | None, port: int = DEFAULT_PORT, secure: bool = False) -> LocalBroker:
    conf = settings()
    return LocalBroker(
        data_dir or conf.home / "broker", port=port, secure=secure, cache_dir=conf.cache_dir
    )


def _running(broker: LocalBroker, port: int | None) -> BrokerState | None:
    """The data dir's running broker; with ``port``, refuse one that listens elsewhere."""
    state = broker.status()
    if state is not None and port is not None and state.port != port:
        fail(
            f"the broker of {broker.data_dir} (pid {state.pid}) listens on port {state.port}, "
            f"not {port}; nothing done. Brokers are told apart by --data-dir"
        )
    return state


@app.command()
def start(
    port: Annotated[int, typer.Option(help="Client listener port on 127.0.0.1.")] = DEFAULT_PORT,
    data_dir: DataDir = None,
    secure: Annotated[
        bool, typer.Option("--secure", help="SASL/SCRAM-SHA-512 listener with ACLs enforced.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 90.0,
) -> None:
    """Download (first time), format (first time) and start the broker; wait until it answers."""
    broker = _broker(data_dir, port, secure)
    began = time.monotonic()
    with friendly_errors(), console.status("starting broker") as status:
        state = broker.start(timeout=timeout, on_progress=status.update)
    console.print(
        f"[green]Kafka {state.version} ready[/] at [bold]{state.bootstrap_servers}[/] "
        f"(pid {state.pid}, {time.monotonic() - began:.1f}s, data {state.data_dir})"
    )
    if state.secure:
        console.print(
            f"SASL/SCRAM-SHA-512 admin user [bold]{state.admin_user}[/], password in "
            f"{broker.cluster_file}"
        )


@app.command()
def stop(port: Port = None, data_dir: DataDir = None) -> None:
    """Stop the broker gracefully (SIGTERM, then SIGKILL after 30 s). Data is kept."""
    broker = _broker(data_dir)
    with friendly_errors():
        state = _running(broker, port)
        stopped = state is not None and broker.stop()
    if stopped:
        console.print("broker stopped")
    elif port is not None:
        console.print(f"no broker running on port {port} with data dir {broker.data_dir}")
    else:
        console.print(f"no broker running with data dir {broker.data_dir}")


@app.command()
def status(port: Port = None, data_dir: DataDir = None) -> None:
    """Say whether the broker runs: pid, port, version, data dir."""
    state = _running(_broker(data_dir), port)
    if state is None:
        fail("no broker running (start one with `frontdesk broker start`)", code=3)
    console.print(
        f"running  pid={state.pid} bootstrap={state.bootstrap_servers} version={state.version} "
        f"secure={state.secure} data_dir={state.data_dir} "
        f"up={time.time() - state.started_at:.0f}s"
    )


@app.command()
def logs(
    data_dir: DataDir = None,
    lines: Annotated[int, typer.Option("-n", help="How many lines from the end.")] = 50,
) -> None:
    """Print the tail of the broker's server log."""
    log = _broker(data_dir).server_log
    if not log.exists():
        fail(f"no log at {log}")
    for line in log.read_text(errors="replace").splitlines()[-lines:]:
        console.print(line, highlight=False, markup=False)
