"""The review console: FastAPI routes over `DlqReview`, rendered server-side with Jinja2.

No front-end build: pages are HTML forms and one CSS file. Routes are plain ``def``s so
FastAPI runs their (blocking) Kafka reads in its thread pool, off the event loop.

Every route that shows or changes a dead letter goes through the same three checks, on the
server: a session (`current_user`), the tenant scope (`scoped` for lists, `may_see` for one
record, answering 404 so ids of other tenants cannot even be probed) and, for a POST, the
CSRF token. Actions take two POSTs: *confirm* shows the plan (a dry run), *execute* acts.
``/healthz`` and ``/readyz`` need no login and say nothing about dead letters
(`frontdesk.health` describes their JSON).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from confluent_kafka import KafkaException
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from frontdesk import naming
from frontdesk.console.charts import bar_chart
from frontdesk.console.overview import QueueMetricsProvider, build_overview
from frontdesk.console.security import (
    Forbidden,
    LoginRequired,
    NotFound,
    check_csrf,
    csrf_token,
    current_user,
    log_in,
    log_out,
    may_see,
    scoped,
)
from frontdesk.console.sessions import SessionStore
from frontdesk.console.throttle import LoginThrottle
from frontdesk.console.users import User, UserStore
from frontdesk.dlq import (
    ACTIONS,
    DeadLetter,
    DeadLetterId,
    DlqError,
    DlqFilter,
    DlqReview,
    dlq_topics,
)
from frontdesk.dlq.actions import require_reason
from frontdesk.dlq.store import StateRecord
from frontdesk.errors import FrontdeskError
from frontdesk.events import EVENT_TYPES
from frontdesk.health import HealthState
from frontdesk.queues import QueueType
from frontdesk.replay.timing import parse_time
from frontdesk.topology import Topology

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from frontdesk.console.trends import TrendSampler

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
"""The pages, autoescaped (every tenant-written byte on them is data, never markup)."""
SESSION_HOURS = 8
READY_CACHE_SECONDS = 5.0
"""``/readyz`` asks Kafka at most this often (probes come every few seconds per replica)."""
MAX_ACTION_IDS = 500
"""One form submission acts on at most this many dead letters: bigger jobs use the CLI."""


def _user(request: Request) -> User:
    store: UserStore = request.app.state.users
    sessions: SessionStore = request.app.state.sessions
    return current_user(request, store, sessions)


UserDep = Annotated[User, Depends(_user)]
"""The logged-in user; without a session the request is redirected to the login page.
Module-level because FastAPI resolves (postponed) annotations in the module's globals."""


@dataclass
class ConsoleConfig:
    review: DlqReview
    users: UserStore
    secret_key: str
    """Signs session cookies; every replica behind one address needs the same one."""
    secure_cookies: bool = False
    """Send the session cookie over HTTPS only: set it whenever TLS terminates in front."""
    page_size: int = 25
    providers: list[QueueMetricsProvider] = field(default_factory=list)
    trends: TrendSampler | None = None
    """Samples the overview's charts; its owner starts and stops it."""
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    """Backs off repeated failed logins per user name and per client address."""
    sessions: SessionStore = field(default_factory=lambda: SessionStore(SESSION_HOURS * 3600))
    """Live sessions; logout ends one on the server."""


def create_app(config: ConsoleConfig) -> FastAPI:
    app = FastAPI(title="frontdesk console", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.secret_key,
        session_cookie="frontdesk_console",
        max_age=SESSION_HOURS * 3600,
        # Lax: a link from elsewhere may open a page, but no other site can POST with it.
        same_site="lax",
        https_only=config.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = TEMPLATES
    review, users = config.review, config.users
    app.state.users = users
    app.state.sessions = config.sessions
    throttle = config.throttle
    dlq_topic_names = set(dlq_topics(review.topology))

    def render(
        request: Request, name: str, user: User | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {"user": user, "csrf": csrf_token(request), **context},
            status_code=status,
        )

    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", None, 403, title="Forbidden", message=str(exc))

    @app.exception_handler(NotFound)
    def _not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", None, 404, title="Not found", message=str(exc))

    def load(user: User, raw_ids: list[str]) -> list[DeadLetter]:
        """The dead letters ``raw_ids`` if this user may see them all; 404 otherwise.

        Out-of-scope and malformed ids answer exactly like missing ones, so a tenant user
        cannot learn whether another tenant's id exists.
        """
        missing = NotFound(f"no dead letter {', '.join(raw_ids)[:200]}")
        try:
            dl_ids = [DeadLetterId.parse(i) for i in raw_ids]
        except ValueError:
            raise missing from None
        if any(i.topic not in dlq_topic_names for i in dl_ids):
            raise missing  # the console reads DLQs only, not arbitrary topics
        try:
            found = review.get_many(dl_ids)
        except DlqError:
            raise missing from None
        if not all(may_see(user, d) for d in found):
            raise missing
        return found

    # -- login ---------------------------------------------------------------------------

    health = HealthState()
    kafka_checked = [-READY_CACHE_SECONDS]
    users_error = [""]

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Answered on the event loop itself: an answer proves the loop turns."""
        health.beat()
        ok, body = health.live()
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The users file loads, and Kafka answers (asked at most every few seconds)."""
        health.beat()
        try:
            users.reload()
            health.check("users", True, "the users file loads")
        except (FrontdeskError, ValueError) as exc:
            # Anyone may ask: the reason (a YAML error quotes the file's lines, hashes
            # included) goes to the log only, once per distinct reason.
            if str(exc) != users_error[0]:
                users_error[0] = str(exc)
                log.error("console not ready: %s", exc)
            health.check("users", False, "the users file does not load; the console log says why")
        now = time.monotonic()
        if now - kafka_checked[0] >= READY_CACHE_SECONDS:
            kafka_checked[0] = now
            try:
                found = review.existing(dlq_topic_names)
            except KafkaException:
                health.check("kafka", False, "no metadata from Kafka")
            else:
                detail = f"Kafka answers; {len(found)} of {len(dlq_topic_names)} DLQ topics exist"
                health.check("kafka", True, detail)
        ok, body = health.ready()
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return render(request, "login.html", None, next=next, error=None)

    @app.post("/login")
    def login(
        request: Request,
        *,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        check_csrf(request, {"csrf_token": csrf_token})
        address = request.client.host if request.client else "unknown"
        wait = throttle.wait(username, address)
        if wait:
            refused = render(
                request,
                "login.html",
                None,
                429,
                next=next,
                error=f"Too many failed logins for this name or from this address: try again "
                f"in {wait} s.",
            )
            refused.headers["Retry-After"] = str(wait)
            return refused
        user = users.authenticate(username, password)
        if user is None:
            throttle.failed(username, address)
            return render(
                request, "login.html", None, 401, next=next, error="Wrong name or password."
            )
        throttle.succeeded(username, address)
        log_in(request, user, config.sessions)
        # Only same-site paths: an open redirect would make the login page a phishing aid.
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        check_csrf(request, {"csrf_token": csrf_token})
        log_out(request, config.sessions)
        return RedirectResponse("/login", status_code=303)

    # -- pages ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, user: UserDep) -> HTMLResponse:
        rows = build_overview(review, user, config.providers, config.trends)
        return render(request, "overview.html", user, rows=rows, namespace=review.namespace)

    @app.get("/dlq", response_class=HTMLResponse)
    def browse(
        request: Request,
        user: UserDep,
        *,
        queue: str = "",
        tenant: str = "",
        event_type: str = "",
        error_class: str = "",
        reason: str = "",
        since: str = "",
        until: str = "",
        handled: bool = False,
        page: Annotated[int, Query(ge=1)] = 1,
    ) -> HTMLResponse:
        form = {
            "queue": queue,
            "tenant": tenant,
            "event_type": event_type,
            "error_class": error_class,
            "reason": reason,
            "since": since,
            "until": until,
            "handled": handled,
        }
        error = None
        try:
            query = DlqFilter(
                tenants=_set(tenant),
                event_types=_set(event_type),
                error_classes=_set(error_class),
                reasons=_set(reason),
                since=_time(since),
                until=_time(until),
            )
            queues = [QueueType(queue)] if queue else []
        except ValueError as exc:
            error, query, queues = str(exc), DlqFilter(), []
        state = review.state()
        found = [
            d
            for d in review.dead_letters(
                dlq_topics(review.topology, queues),
                scoped(user, query),
                include_handled=handled,
                skip_missing=True,
                state=state,
            )
            if may_see(user, d)
        ]
        found.sort(key=lambda d: (d.timestamp, d.id), reverse=True)
        size = config.page_size
        pages = max(1, -(-len(found) // size))
        shown = found[(page - 1) * size : page * size]
        return render(
            request,
            "dlq.html",
            user,
            form=form,
            error=error,
            dead_letters=shown,
            state=state,
            total=len(found),
            page=page,
            pages=pages,
            queues=[q.value for q in QueueType],
            event_types=sorted(EVENT_TYPES),
            query_string=_query_string(form),
            reasons=bar_chart(
                "Dead letters by reason (all that match)",
                Counter(d.reason or "(none)" for d in found).most_common(),
            )
            if found
            else None,
        )

    @app.get("/dlq/{dead_letter_id}", response_class=HTMLResponse)
    def event_page(request: Request, user: UserDep, dead_letter_id: str) -> HTMLResponse:
        dl = load(user, [dead_letter_id])[0]
        context = event_context(dl, review.state().get(dl.id), review.topology)
        return render(request, "event.html", user, **context)

    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, user: UserDep) -> HTMLResponse:
        trail = review.audit(last=500)
        records = trail.records
        if not user.is_operator:
            records = [r for r in records if r.tenants == [user.tenant]]
        warning = trail.warning() if user.is_operator else None
        return render(request, "audit.html", user, records=records, warning=warning)

    # -- actions: confirm, then execute ---------------------------------------------------

    def prepare(
        request: Request, user: User, *, ids: list[str], action: str, reason: str, token: str
    ) -> tuple[list[DeadLetter], str]:
        check_csrf(request, {"csrf_token": token})
        if action not in ACTIONS:
            raise Forbidden(f"unknown action {action!r}")
        if not ids:
            raise DlqError("select at least one dead letter")
        if len(ids) > MAX_ACTION_IDS:
            raise DlqError(f"at most {MAX_ACTION_IDS} at once; use the CLI for more")
        why = require_reason(reason)
        chosen = load(user, list(dict.fromkeys(ids)))
        review.check_open(d.id for d in chosen)
        return chosen, why

    @app.post("/actions/confirm", response_class=HTMLResponse)
    def confirm(
        request: Request,
        user: UserDep,
        *,
        ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
        action: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        to: Annotated[str, Form()] = "",
        tenant_from_topic: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        target = Target(to.strip() or None, tenant_from_topic == "yes")
        try:
            chosen, why = prepare(
                request, user, ids=ids, action=action, reason=reason, token=csrf_token
            )
            plan = _run(review, action, chosen, why, user, target=target, dry_run=True)
        except (DlqError, ValueError) as exc:
            return render(request, "error.html", user, 400, title="Cannot do that", message=exc)
        return render(request, "confirm.html", user, plan=plan, reason=why, target=target)

    @app.post("/actions/execute", response_class=HTMLResponse)
    def execute(
        request: Request,
        user: UserDep,
        *,
        ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
        action: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        to: Annotated[str, Form()] = "",
        tenant_from_topic: Annotated[str, Form()] = "",
        confirmed: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        target = Target(to.strip() or None, tenant_from_topic == "yes")
        try:
            chosen, why = prepare(
                request, user, ids=ids, action=action, reason=reason, token=csrf_token
            )
            if confirmed != "yes":
                raise DlqError("the action was not confirmed")
            result = _run(review, action, chosen, why, user, target=target, dry_run=False)
        except (DlqError, ValueError) as exc:
            return render(request, "error.html", user, 400, title="Cannot do that", message=exc)
        return render(request, "done.html", user, result=result)

    return app


@dataclass(frozen=True, slots=True)
class Target:
    """The redrive form's choices: another main or retry topic of the same queue and tenant
    (``--to``), and, for a tenant-mismatched dead letter, redriving it as its topic's tenant.
    `DlqReview.redrive` checks both; a tenant user never gets that far with a mismatch."""

    to: str | None = None
    tenant_from_topic: bool = False


def _run(
    review: DlqReview,
    action: str,
    chosen: list[DeadLetter],
    why: str,
    user: User,
    *,
    target: Target,
    dry_run: bool,
) -> Any:
    common: dict[str, Any] = {
        "reason": why,
        "actor": user.name,
        "dry_run": dry_run,
        "source": "console",
    }
    if action == "redrive":
        return review.redrive(
            chosen,
            to=target.to,
            tenant_from_topic=target.tenant_from_topic and user.is_operator,
            **common,
        )
    if action == "release":
        return review.release(chosen, **common)
    return review.discard(chosen, **common)


def event_context(dl: DeadLetter, state: StateRecord | None, topology: Topology) -> dict[str, Any]:
    """What the event page (``event.html``) shows of one dead letter, whatever its bytes."""
    return {
        "dl": dl,
        "data": dl.to_dict(),
        "history": dl.history(),
        "tenancy": dl.tenancy,
        "targets": _redrive_targets(topology, dl),
        "state": state,
    }


def _redrive_targets(topology: Topology, dl: DeadLetter) -> list[str]:
    """What the event page offers a redrive: its DLQ's main topic, then that one's tiers."""
    topic = dl.tenancy.topic
    if topic is None or topic.role != "dlq":
        return []
    delays = topology.retry_delays(topic.queue)
    return [topic.main, *(naming.retry_topic(topic.main, d) for d in delays)]


def _set(text: str) -> frozenset[str]:
    """A form field of comma-separated alternatives."""
    return frozenset(v.strip() for v in text.split(",") if v.strip())


def _time(text: str) -> datetime | None:
    return parse_time(text) if text.strip() else None


def _query_string(form: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in form.items() if v})
