"""The console over a real broker, driven through HTTP (no browser).

Contract: every page needs a login; every POST needs the session's CSRF token; a tenant
user sees and acts on its own tenant's dead letters only, whatever the URL or form says
(out-of-scope ids answer 404); an operator's redrive goes through a confirmation step and
ends up in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from frontdesk.console import ConsoleConfig, Role, UserStore, add_user, create_app
from frontdesk.dlq import DeadLetterId, DlqReview
from tests.support import dlq as support
from tests.support.kafka import Cluster, unique

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    client: TestClient
    review: DlqReview
    main: str
    acme: list[DeadLetterId]
    zed: list[DeadLetterId]


@pytest.fixture
def console(kafka: Cluster, tmp_path: Path) -> Iterator[Console]:
    topo = support.apply(kafka, unique("console"))
    main = topo.main_topics("operational")[0]
    acme = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="acme")] * 2)
    zed = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="zed", value=b"bad")])
    users = tmp_path / "users.yaml"
    add_user(users, "ops", "operator-pass", Role.OPERATOR)
    add_user(users, "acme-ops", "tenant-pass", Role.TENANT, "acme")
    review = DlqReview(kafka.config, topo)
    app = create_app(ConsoleConfig(review, UserStore(users), secret_key="test-secret"))
    with TestClient(app, follow_redirects=False) as client:
        yield Console(client, review, main, acme, zed)


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _login(client: TestClient, name: str, password: str) -> str:
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return _csrf(client.get("/dlq").text)


def test_pages_need_a_login(console: Console) -> None:
    for path in ("/", "/dlq", f"/dlq/{console.acme[0]}", "/audit"):
        response = console.client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    forged = console.client.post("/actions/execute", data={"ids": [str(console.acme[0])]})
    assert forged.status_code == 303


def test_login_checks_csrf_and_password(console: Console) -> None:
    client = console.client
    token = _csrf(client.get("/login").text)
    no_csrf = client.post("/login", data={"username": "ops", "password": "operator-pass"})
    assert no_csrf.status_code == 403
    wrong = client.post("/login", data={"username": "ops", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    good = client.post(
        "/login",
        data={"username": "ops", "password": "operator-pass", "csrf_token": token, "next": "//x"},
    )
    assert (good.status_code, good.headers["location"]) == (303, "/")


def test_operator_browses_and_reads_an_event(console: Console) -> None:
    client = console.client
    _login(client, "ops", "operator-pass")
    listing = client.get("/dlq").text
    for dl_id in console.acme + console.zed:
        assert str(dl_id) in listing
    assert str(console.zed[0]) not in client.get("/dlq?tenant=acme").text
    event = client.get(f"/dlq/{console.acme[0]}").text
    assert '"tenant_id": "acme"' in event
    assert "the channel manager said no" in event
    raw = client.get(f"/dlq/{console.zed[0]}").text
    assert "626164" in raw  # b"bad" in hex
    assert "bad_magic" in raw
    overview = client.get("/").text
    assert "open dead letters" in overview
    assert f"{console.main}.retry.10s" in overview
    assert client.get(f"/dlq/{console.main}:0:0").status_code == 404  # not a DLQ


def test_operator_redrives_with_confirmation(console: Console) -> None:
    client = console.client
    token = _login(client, "ops", "operator-pass")
    target = str(console.acme[0])
    form = {"ids": [target], "action": "redrive", "reason": "", "csrf_token": token}
    assert client.post("/actions/confirm", data=form).status_code == 400  # no reason
    form["reason"] = "handler fixed in 2.3"
    confirm = client.post("/actions/confirm", data=form)
    assert confirm.status_code == 200
    assert console.main in confirm.text
    assert target in {str(d.id) for d in console.review.dead_letters(console.review.topics())}
    unconfirmed = client.post("/actions/execute", data=form)
    assert unconfirmed.status_code == 400
    done = client.post("/actions/execute", data={**form, "confirmed": "yes"})
    assert done.status_code == 200, done.text
    assert target not in client.get("/dlq").text
    audit = client.get("/audit").text
    assert "handler fixed in 2.3" in audit
    assert target in audit
    again = client.post("/actions/execute", data={**form, "confirmed": "yes"})
    assert again.status_code == 400
    assert "already handled" in again.text


def test_tenant_user_is_confined_to_its_tenant(console: Console) -> None:
    client = console.client
    token = _login(client, "acme-ops", "tenant-pass")
    other = str(console.zed[0])
    for listing in (client.get("/dlq").text, client.get("/dlq?tenant=zed").text):
        assert str(console.acme[0]) in listing
        assert other not in listing
    assert client.get(f"/dlq/{other}").status_code == 404
    assert client.get(f"/dlq/{console.acme[0]}").status_code == 200
    overview = client.get("/").text
    assert "zed" not in overview
    assert ".retry." not in overview  # pooled topic sizes would reveal other tenants' volume

    forged = {"ids": [other], "action": "discard", "reason": "x", "csrf_token": token}
    assert client.post("/actions/confirm", data=forged).status_code == 404
    assert client.post("/actions/execute", data={**forged, "confirmed": "yes"}).status_code == 404
    mixed = {**forged, "ids": [str(console.acme[1]), other], "confirmed": "yes"}
    assert client.post("/actions/execute", data=mixed).status_code == 404
    no_csrf = {**forged, "ids": [str(console.acme[1])], "csrf_token": "forged", "confirmed": "yes"}
    assert client.post("/actions/execute", data=no_csrf).status_code == 403
    assert {str(d.id) for d in console.review.dead_letters(console.review.topics())} == {
        str(i) for i in console.acme + console.zed
    }

    own = {**forged, "ids": [str(console.acme[1])], "confirmed": "yes"}
    assert client.post("/actions/execute", data=own).status_code == 200
    assert console.review.state()[console.acme[1]].actor == "acme-ops"
    assert "acme-ops" in client.get("/audit").text
