"""``frontdesk cluster start|stop|status|logs|kill``: a local multi-node Kafka cluster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from frontdesk.broker import DEFAULT_PORT
from frontdesk.broker.cluster import DEFAULT_NODES, LocalCluster
from frontdesk.cli.common import console, fail, friendly_errors, settings

app = typer.Typer(
    help="Run a real multi-node Kafka cluster locally (KRaft, one JVM per node, no Docker)."
)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Cluster storage; default ~/.local/share/frontdesk/cluster."),
]
Node = Annotated[
    int | None, typer.Option("--node", help="Only this node (1-based); default every node.")
]


def _cluster(
    data_dir: Path | None,
    nodes: int = DEFAULT_NODES,
    port: int = DEFAULT_PORT,
    secure: bool = False,
) -> LocalCluster:
    conf = settings()
    return LocalCluster(
        data_dir or conf.home / "cluster",
        nodes=nodes,
        port=port,
        secure=secure,
        cache_dir=conf.cache_dir,
    )


@app.command()
def start(  # noqa: PLR0917 - each is a CLI option
    nodes: Annotated[
        int, typer.Option(min=1, max=9, help="Nodes, each a broker and a controller voter.")
    ] = DEFAULT_NODES,
    port: Annotated[
        int, typer.Option(help="Client port of node 1; node i listens on port + i - 1.")
    ] = DEFAULT_PORT,
    data_dir: DataDir = None,
    secure: Annotated[
        bool, typer.Option("--secure", help="SASL/SCRAM-SHA-512 listeners with ACLs enforced.")
    ] = False,
    node: Node = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 120.0,
) -> None:
    """Download (first time), format (first time) and start the nodes; wait until all answer.

    With --node, start that node alone (the others must already run)."""
    cluster = _cluster(data_dir, nodes, port, secure)
    began = time.monotonic()
    with friendly_errors(), console.status("starting cluster") as status:
        if node is not None:
            cluster.node(node).start(timeout=timeout)
            state = cluster.status()
        else:
            state = cluster.start(timeout=timeout, on_progress=status.update)
    assert state is not None
    console.print(
        f"[green]Kafka {state.version} cluster ready[/] at [bold]{state.bootstrap_servers}[/] "
        f"({len(state.nodes)} nodes running, {time.monotonic() - began:.1f}s, "
        f"data {state.data_dir})"
    )
    console.print(f"export FRONTDESK_BOOTSTRAP_SERVERS={state.bootstrap_servers}")
    if state.secure:
        console.print(
            f"SASL/SCRAM-SHA-512 admin user [bold]{state.admin_user}[/], password in "
            f"{cluster.cluster_file}"
        )


@app.command()
def stop(data_dir: DataDir = None, node: Node = None) -> None:
    """Stop the nodes gracefully (SIGTERM, then SIGKILL after 30 s). Data is kept."""
    cluster = _cluster(data_dir)
    with friendly_errors():
        stopped = int(cluster.node(node).stop()) if node is not None else cluster.stop()
    console.print(f"{stopped} node(s) stopped" if stopped else "no node running")


@app.command()
def kill(
    node: Annotated[int, typer.Option("--node", help="The node to SIGKILL (1-based).")],
    data_dir: DataDir = None,
) -> None:
    """SIGKILL one node at once, as a crash would (for fault drills)."""
    with friendly_errors():
        target = _cluster(data_dir).node(node)
        running = target.status() is not None
        target.kill()
    console.print(f"node {node} killed" if running else f"node {node} was not running")


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Say which nodes run: pid, port, up time."""
    cluster = _cluster(data_dir)
    state = cluster.status()
    if state is None:
        fail("no cluster node running (start them with `frontdesk cluster start`)", code=3)
    running = state.nodes
    console.print(
        f"cluster bootstrap={state.bootstrap_servers} version={state.version} "
        f"secure={state.secure} data_dir={state.data_dir}"
    )
    for node in cluster.nodes:
        s = running.get(node.node_id)
        if s is None:
            console.print(f"node {node.node_id}  stopped  port={node.ports().client}")
        else:
            console.print(
                f"node {node.node_id}  running  pid={s.pid} port={s.port} "
                f"up={time.time() - s.started_at:.0f}s"
            )


@app.command()
def logs(
    data_dir: DataDir = None,
    node: Annotated[int, typer.Option("--node", help="Whose log (1-based).")] = 1,
    lines: Annotated[int, typer.Option("-n", help="How many lines from the end.")] = 50,
) -> None:
    """Print the tail of one node's server log."""
    with friendly_errors():
        log = _cluster(data_dir).node(node).server_log
    if not log.exists():
        fail(f"no log at {log}")
    for line in log.read_text(errors="replace").splitlines()[-lines:]:
        console.print(line, highlight=False, markup=False)
