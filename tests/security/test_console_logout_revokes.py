"""Logging out of the console ends the session on the server.

The hole: the session was only a signed cookie. A copy saved before logout (a shared
machine, a proxy log, a stolen cookie) still opened the console afterwards.

The contract: the cookie carries a session id the console keeps on its side; logout ends
that session, so the saved cookie opens nothing: pages redirect to the login and actions
are not carried out. Other users' sessions are unaffected, logging in again starts a new
session, and a session also ends when its lifetime is over.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from frontdesk.console.sessions import SessionStore
from frontdesk.dlq import DlqReview
from tests.support import dlq as support
from tests.support.console import ManualClock, Session, console, users_file
from tests.support.kafka import Cluster, unique

COOKIE = "frontdesk_console"


def test_logout_revokes_the_session(kafka: Cluster, tmp_path: Path) -> None:
    topo = support.apply(kafka, unique("logout"))
    main = topo.main_topics("operational")[0]
    acme = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="acme")] * 2)
    review = DlqReview(kafka.config, topo)
    users = users_file(tmp_path, ops=None, acme_ops="acme")
    clock = ManualClock()
    sessions = SessionStore(lifetime=3600, clock=clock)

    with (
        console(review, users, sessions=sessions) as base,
        Session(base) as ops,
        Session(base) as other,
    ):
        token = ops.login("ops")
        other.login("acme_ops")
        saved = ops.http.cookies[COOKIE]
        assert ops.http.post("/logout", data={"csrf_token": token}).status_code == 303

        with httpx.Client(base_url=base, cookies={COOKIE: saved}) as replay:
            for path in ("/", "/dlq", f"/dlq/{acme[0]}", "/audit"):
                response = replay.get(path, follow_redirects=False)
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/login")
            forged = {
                "ids": [str(acme[0])],
                "action": "discard",
                "reason": "after logout",
                "csrf_token": token,
                "confirmed": "yes",
            }
            assert replay.post("/actions/execute", data=forged).status_code == 303
        assert review.state() == {}

        # The other user's session goes on; so does a fresh login of the same user.
        assert str(acme[0]) in other.http.get("/dlq").text
        ops.login("ops")
        assert ops.http.get("/dlq").status_code == 200
        with httpx.Client(base_url=base, cookies={COOKIE: saved}) as replay:
            assert replay.get("/dlq", follow_redirects=False).status_code == 303

        # A session ends with its lifetime as well, whether or not anyone logs out.
        clock.now += 3601
        assert ops.http.get("/dlq").status_code == 303
        assert other.http.get("/dlq").status_code == 303
        other.login("acme_ops")
        assert other.act("execute", [str(acme[1])], "discard").status_code == 200
    assert list(review.state()) == [acme[1]]


def test_sessions_per_user_are_bounded() -> None:
    """A script logging in again and again ends its own oldest sessions, nothing else."""
    store = SessionStore(lifetime=60, clock=ManualClock(), per_user=3)
    other = store.start("acme_ops")
    ids = [store.start("ops") for _ in range(5)]
    assert [store.user(i) for i in ids] == [None, None, "ops", "ops", "ops"]
    assert store.user(other) == "acme_ops"
