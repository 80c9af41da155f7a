"""``frontdesk console``: serve the review console; ``frontdesk console add-user``.

The session-signing secret comes from ``FRONTDESK_CONSOLE_SECRET``; without it a random
one is made per process, so sessions end when the console restarts and several replicas
cannot share them (set the variable in any real deployment).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from frontdesk.cli.common import err_console, fail, friendly_errors, settings, topology
from frontdesk.connection import client_config
from frontdesk.console.users import Role, UsersFileError, UserStore, add_user, users_file

SECRET_ENV = "FRONTDESK_CONSOLE_SECRET"

app = typer.Typer(
    help="The web console for dead-letter review.",
    invoke_without_command=True,
)

UsersFile = Annotated[
    Path | None,
    typer.Option(
        "--users-file",
        help="Users YAML (default: $FRONTDESK_CONSOLE_USERS_FILE or deploy/console-users.yaml).",
    ),
]


@app.callback()
def serve(
    ctx: typer.Context,
    *,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    users: UsersFile = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="Send the session cookie over HTTPS only (behind TLS).")
    ] = False,
) -> None:
    """Serve the console (the default when no sub-command is given)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn  # noqa: PLC0415 - only the serving path needs the server

    from frontdesk.console import ConsoleConfig, create_app  # noqa: PLC0415 - same
    from frontdesk.dlq import DlqReview  # noqa: PLC0415 - same

    secret = os.environ.get(SECRET_ENV)
    if not secret:
        err_console.print(
            f"[yellow]{SECRET_ENV} is not set:[/] sessions end when the console restarts"
        )
        secret = secrets.token_urlsafe(32)
    with friendly_errors():
        try:
            store = UserStore(users_file(users))
        except UsersFileError as exc:
            fail(f"{exc} (create it with `frontdesk console add-user`)")
        review = DlqReview(client_config(settings()), topology())
        from frontdesk.console.trends import TrendSampler  # noqa: PLC0415
        from frontdesk.lag import LagProvider  # noqa: PLC0415
        from frontdesk.worker.halts import HaltedTenantsProvider  # noqa: PLC0415
        from frontdesk.worker.holds import HeldKeysProvider  # noqa: PLC0415 - lazy, like the rest

        held = HeldKeysProvider(review.config, review.topology)
        halted = HaltedTenantsProvider(review.config, review.topology)
        lag = LagProvider(review.config, review.topology.namespace)
        trends = TrendSampler(review, lag)
        app_ = create_app(
            ConsoleConfig(
                review,
                store,
                secret_key=secret,
                secure_cookies=secure_cookies,
                providers=[lag, held, halted],
                trends=trends,
            )
        )
    err_console.print(f"console on http://{host}:{port}/")
    trends.start()
    try:
        uvicorn.run(app_, host=host, port=port, log_level="info", proxy_headers=True)
    finally:
        trends.stop()


@app.command("add-user")
def add_user_command(
    name: Annotated[str, typer.Argument(help="Login name.")],
    *,
    role: Annotated[Role, typer.Option(help="operator: all tenants; tenant: one.")] = Role.OPERATOR,
    tenant: Annotated[str | None, typer.Option(help="The tenant id of a tenant user.")] = None,
    users: UsersFile = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="FRONTDESK_CONSOLE_PASSWORD",
            help="Password (prompted when not given; the env var suits scripts).",
        ),
    ] = None,
) -> None:
    """Add a console user, or replace one's password and role, in the users file."""
    path = users_file(users)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        fail("use a password of at least 8 characters", code=2)
    try:
        add_user(path, name, password, role, tenant)
    except (UsersFileError, ValueError) as exc:
        fail(str(exc), code=2)
    err_console.print(f"{name} ({role.value}{f', {tenant}' if tenant else ''}) saved in {path}")
