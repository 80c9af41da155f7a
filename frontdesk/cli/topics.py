"""``frontdesk topics plan|apply``: make the cluster match ``deploy/topology.yaml``."""

from __future__ import annotations

from typing import Annotated

import typer

from frontdesk.admin.acls import AclPlan, apply_acls, plan_acls
from frontdesk.admin.topics import TopicPlan, apply_topics, plan_topics
from frontdesk.cli.common import admin_client, console, friendly_errors, topology

app = typer.Typer(help="Declare topics, tenants and ACLs as code and apply them idempotently.")

Prune = Annotated[
    bool, typer.Option("--prune", help="Also delete frontdesk topics the topology lacks.")
]


def _show(topic_plan: TopicPlan, acl_plan: AclPlan) -> None:
    for change in topic_plan.changes:
        console.print(f"  {change.describe()}", highlight=False)
    for line in acl_plan.describe():
        console.print(f"  {line}", highlight=False)
    for conflict in topic_plan.conflicts:
        console.print(f"  [yellow]conflict:[/] {conflict}", highlight=False)
    if not acl_plan.supported and any(t.principal for t in topology().dedicated_tenants()):
        console.print("  [dim]cluster has no authorizer: tenant ACLs skipped[/]")


@app.command()
def plan(prune: Prune = False) -> None:
    """Print what `apply` would change, and change nothing."""
    with friendly_errors():
        admin, topo = admin_client(), topology()
        topic_plan, acl_plan = plan_topics(admin, topo, prune=prune), plan_acls(admin, topo)
    if topic_plan.empty and acl_plan.empty:
        console.print("no changes")
    _show(topic_plan, acl_plan)


@app.command()
def apply(
    prune: Prune = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before pruning.")] = False,
) -> None:
    """Create missing topics, raise partitions, align configs and tenant ACLs."""
    with friendly_errors():
        admin, topo = admin_client(), topology()
        topic_plan, acl_plan = plan_topics(admin, topo, prune=prune), plan_acls(admin, topo)
        if topic_plan.empty and acl_plan.empty:
            console.print("no changes")
            _show(topic_plan, acl_plan)
            return
        _show(topic_plan, acl_plan)
        deletes = [c for c in topic_plan.changes if c.describe().startswith("delete")]
        if deletes and not yes:
            typer.confirm(f"Delete {len(deletes)} topic(s) and their data?", abort=True)
        apply_topics(admin, topic_plan)
        apply_acls(admin, acl_plan)
    console.print(f"[green]applied[/] {len(topic_plan.changes) + len(acl_plan.grant)} change(s)")
