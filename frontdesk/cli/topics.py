"""``frontdesk topics plan|apply``: make the cluster match ``deploy/topology.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer
from confluent_kafka.admin import AdminClient
from rich.markup import escape

from frontdesk.admin.acls import AclPlan, apply_acls, plan_acls
from frontdesk.admin.preflight import PreflightError, preflight
from frontdesk.admin.quotas import QuotaPlan, apply_quotas, plan_quotas
from frontdesk.admin.topics import DeleteTopic, TopicPlan, apply_topics, plan_topics
from frontdesk.cli.common import console, fail, friendly_errors, topology
from frontdesk.connection import client_config
from frontdesk.topology import Topology

app = typer.Typer(help="Declare topics, tenants and ACLs as code and apply them idempotently.")

Prune = Annotated[
    bool, typer.Option("--prune", help="Also delete frontdesk topics the topology lacks.")
]


@dataclass(slots=True)
class _Plan:
    topology: Topology
    topics: TopicPlan
    acls: AclPlan
    quotas: QuotaPlan
    problems: list[str]
    """What the broker (validate-only) or the checks would refuse: apply then does nothing."""

    @property
    def size(self) -> int:
        return len(self.topics.changes) + len(self.acls.describe()) + len(self.quotas.changes)

    def show(self) -> None:
        if self.size == 0:
            console.print("no changes")
        lines = [c.describe() for c in self.topics.changes]
        lines += self.acls.describe() + [c.describe() for c in self.quotas.changes]
        for line in lines:
            console.print(f"  {line}", highlight=False)
        for conflict in self.topics.conflicts:
            console.print(f"  [yellow]conflict:[/] {conflict}", highlight=False)
        if not self.acls.supported:
            console.print("  [dim]cluster has no authorizer: tenant ACLs skipped[/]")
        for problem in self.problems:
            console.print(f"  [red]would fail:[/] {escape(problem)}", highlight=False)


def _plan(prune: bool) -> _Plan:
    """The changes, and every problem applying them would meet (checked, nothing changed)."""
    conf = client_config()
    admin, topo = AdminClient(conf), topology()
    topics, acls, quotas = (
        plan_topics(admin, topo, prune=prune),
        plan_acls(admin, topo),
        plan_quotas(conf, topo),
    )
    return _Plan(
        topo,
        topics,
        acls,
        quotas,
        preflight(admin, conf, topo, topics=topics, acls=acls, quotas=quotas),
    )


@app.command()
def plan(prune: Prune = False) -> None:
    """Print what `apply` would change, and change nothing."""
    with friendly_errors():
        _plan(prune).show()


@app.command()
def apply(
    prune: Prune = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before pruning.")] = False,
) -> None:
    """Create missing topics, raise partitions, align configs, tenant ACLs and quotas.

    All or nothing: everything is validated first (see `frontdesk.admin.preflight`).
    """
    with friendly_errors():
        todo = _plan(prune)
        todo.show()
        if todo.problems:
            fail(escape(str(PreflightError(todo.problems))))
        if todo.size == 0:
            return
        deletes = [c for c in todo.topics.changes if isinstance(c, DeleteTopic)]
        if deletes and not yes:
            typer.confirm(f"Delete {len(deletes)} topic(s) and their data?", abort=True)
        conf = client_config()
        admin = AdminClient(conf)
        apply_topics(admin, todo.topics)
        apply_acls(admin, todo.acls)
        apply_quotas(conf, todo.quotas)
    console.print(f"[green]applied[/] {todo.size} change(s)")
