"""Console logins are throttled per user name and per client address.

The hole: 30 wrong passwords in 1.1 s, then the right one, and the right one was accepted:
nothing slowed a password guesser down.

The contract: after a few failed logins, the name tried and the address tried from are each
locked for a while, doubling with every further failure. While locked, every login of that
name or from that address is refused with a clear message (HTTP 429, Retry-After), even
with the right password; the lockout is logged. Other users from other addresses log in as
before, and once the lockout ends the right password works again. Time is the console's
clock, driven by the test, not the wall clock.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from frontdesk.console.throttle import LoginThrottle
from frontdesk.dlq import DlqReview
from tests.support import dlq as support
from tests.support.console import ManualClock, Session, console, users_file
from tests.support.kafka import Cluster, unique


def _from(session: Session, address: str) -> Session:
    """Requests of ``session`` appear to come from ``address`` (via the trusted local proxy
    header, as behind a reverse proxy)."""
    session.http.headers["X-Forwarded-For"] = address
    return session


def test_login_is_throttled(
    kafka: Cluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    topo = support.apply(kafka, unique("throttle"))
    main = topo.main_topics("operational")[0]
    (acme,) = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="acme")])
    users = users_file(tmp_path, ops=None, acme_ops="acme")
    clock = ManualClock()
    throttle = LoginThrottle(free=5, base=30, cap=900, clock=clock)
    caplog.set_level(logging.WARNING, logger="frontdesk.console.login")

    with console(DlqReview(kafka.config, topo), users, throttle=throttle) as base:
        with _from(Session(base), "203.0.113.7") as attacker:
            codes = [attacker.try_login("ops", f"guess-{i}").status_code for i in range(30)]
            assert codes[:5] == [401] * 5
            assert set(codes[5:]) == {429}
            right = attacker.try_login("ops", "ops-password")
            assert right.status_code == 429
            assert "Too many failed logins" in right.text
            assert int(right.headers["Retry-After"]) > 0
            assert attacker.http.get("/dlq").status_code == 303  # no session was started

        # The name is locked from any address; the address is locked for any name.
        with _from(Session(base), "198.51.100.1") as elsewhere:
            assert elsewhere.try_login("ops", "ops-password").status_code == 429
        with _from(Session(base), "203.0.113.7") as same_address:
            assert same_address.try_login("acme_ops", "acme_ops-password").status_code == 429
        # Everyone else is untouched: acme's user logs in and sees its dead letter.
        with _from(Session(base), "192.0.2.44") as tenant:
            tenant.login("acme_ops")
            assert str(acme) in tenant.http.get("/dlq").text

        assert any("console login locked" in r.getMessage() for r in caplog.records)
        assert any("user:ops" in r.getMessage() for r in caplog.records)
        assert any("address:203.0.113.7" in r.getMessage() for r in caplog.records)

        # The lockout ends (the longest it can be is the cap); the right password works.
        clock.now += 901
        with _from(Session(base), "203.0.113.7") as owner:
            owner.login("ops")
            assert str(acme) in owner.http.get("/dlq").text
        # A success cleared the count: one more wrong password is not yet a lockout.
        with _from(Session(base), "203.0.113.7") as again:
            assert again.try_login("ops", "typo").status_code == 401
            assert again.try_login("ops", "ops-password").status_code == 303


def test_backoff_doubles_and_is_capped() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(free=2, base=10, cap=60, clock=clock)
    waits = []
    for _ in range(6):
        throttle.failed("ana", "10.0.0.1")
        waits.append(throttle.wait("ana", "10.0.0.9"))
    assert waits == [0, 10, 20, 40, 60, 60]
    assert throttle.wait("bob", "10.0.0.1") == 60  # the address is locked too
    assert throttle.wait("bob", "10.0.0.2") == 0
    clock.now += 60
    assert throttle.wait("ana", "10.0.0.1") == 0
