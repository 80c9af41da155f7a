"""Who is asking, what they may see, and that a POST really came from our own form.

Sessions live on the server (`frontdesk.console.sessions`): Starlette's signed cookie
(itsdangerous) holds only the session id and a CSRF token, so logout ends a session even
for a copy of its cookie. The user's role and tenant are looked up on every request, so a
changed users file applies at once. Every POST carries the session's token in a hidden
field, compared in constant time; the login form gets one too (login CSRF). Tenant scoping
is enforced here and in the routes, on the server, for lists, pages and actions alike.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import Request

from frontdesk.console.sessions import SessionStore
from frontdesk.console.users import User, UserStore
from frontdesk.dlq import DeadLetter, DlqFilter

SESSION_ID = "sid"
SESSION_CSRF = "csrf"


class LoginRequired(Exception):
    """No valid session: the handler redirects to the login page."""


class Forbidden(Exception):
    """The request is not allowed (bad CSRF token, wrong role)."""


class NotFound(Exception):
    """No such dead letter *for this user*: out-of-scope ones look missing, not forbidden."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, form: Any) -> None:
    sent = form.get("csrf_token")
    expected = request.session.get(SESSION_CSRF)
    if not (isinstance(sent, str) and isinstance(expected, str)):
        raise Forbidden("missing CSRF token: reload the page and try again")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("invalid CSRF token: reload the page and try again")


def log_in(request: Request, user: User, sessions: SessionStore) -> None:
    """Start a fresh session (a new CSRF token too), so a planted cookie gains nothing."""
    log_out(request, sessions)
    request.session[SESSION_ID] = sessions.start(user.name)
    csrf_token(request)


def log_out(request: Request, sessions: SessionStore) -> None:
    """End the session on the server (its cookie, wherever copied, opens nothing now)."""
    sid = request.session.get(SESSION_ID)
    if isinstance(sid, str):
        sessions.end(sid)
    request.session.clear()


def current_user(request: Request, users: UserStore, sessions: SessionStore) -> User:
    sid = request.session.get(SESSION_ID)
    name = sessions.user(sid) if isinstance(sid, str) else None
    user = users.get(name) if name is not None else None
    if user is None:
        request.session.pop(SESSION_ID, None)
        raise LoginRequired
    return user


def scoped(user: User, query: DlqFilter) -> DlqFilter:
    """``query`` narrowed to what ``user`` may see: a tenant user's own tenant, always."""
    if user.is_operator:
        return query
    return DlqFilter(
        tenants=frozenset({user.tenant or ""}),
        event_types=query.event_types,
        error_classes=query.error_classes,
        reasons=query.reasons,
        since=query.since,
        until=query.until,
        ids=query.ids,
    )


def may_see(user: User, dead_letter: DeadLetter) -> bool:
    """Operators see all; a tenant user only records naming their tenant and no other."""
    return user.is_operator or (user.tenant is not None and dead_letter.owned_by(user.tenant))
