"""Console users and session rules without a broker: hashing, the users file, CSRF, scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frontdesk.console.security import Forbidden, check_csrf, may_see, scoped
from frontdesk.console.users import (
    Role,
    User,
    UsersFileError,
    UserStore,
    add_user,
    hash_password,
    verify_password,
)
from frontdesk.dlq import DlqFilter
from tests.support.dlq import dead_letter as _dl


def test_password_hash_verifies_and_is_salted() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two
    assert one.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", one)
    assert not verify_password("correct horsE", one)
    assert not verify_password("x", "md5$abc")
    assert not verify_password("x", "scrypt$garbage")


def test_add_user_then_authenticate(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "ana", "s3cret-pass", Role.OPERATOR)
    add_user(path, "sea", "tenant-pass", Role.TENANT, "seaside-rentals")
    store = UserStore(path)
    ana = store.authenticate("ana", "s3cret-pass")
    assert ana is not None
    assert ana.is_operator
    assert store.authenticate("ana", "wrong") is None
    assert store.authenticate("nobody", "s3cret-pass") is None
    sea = store.get("sea")
    assert sea is not None
    assert (sea.role, sea.tenant) == (Role.TENANT, "seaside-rentals")
    assert "tenant-pass" not in path.read_text()
    assert path.stat().st_mode & 0o077 == 0


def test_store_rereads_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "ana", "s3cret-pass", Role.OPERATOR)
    store = UserStore(path)
    add_user(path, "bo", "other-pass", Role.OPERATOR)
    import os

    os.utime(path, (1, 1))  # make sure the mtime differs even on coarse clocks
    assert store.get("bo") is not None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"role": "admin", "password": "scrypt$x"}, "role must be"),
        ({"role": "tenant", "password": "scrypt$x"}, "no tenant id"),
        ({"role": "operator", "tenant": "a", "password": "scrypt$x"}, "has no tenant"),
        ({"role": "operator", "password": "plain"}, "scrypt hash"),
    ],
)
def test_bad_entries_are_refused(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    import yaml

    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": {"x": entry}}))
    with pytest.raises(UsersFileError, match=message):
        UserStore(path)


def test_add_user_refuses_a_tenant_user_without_tenant(tmp_path: Path) -> None:
    with pytest.raises(UsersFileError, match="needs --tenant"):
        add_user(tmp_path / "u.yaml", "x", "password1", Role.TENANT)


class _Request:
    def __init__(self, session: dict[str, Any]) -> None:
        self.session = session


def test_csrf_token_must_match_the_session() -> None:
    request: Any = _Request({"csrf": "abc"})
    check_csrf(request, {"csrf_token": "abc"})
    for form in ({}, {"csrf_token": ""}, {"csrf_token": "abd"}):
        with pytest.raises(Forbidden):
            check_csrf(request, form)
    with pytest.raises(Forbidden):
        check_csrf(_Request({}), {"csrf_token": "abc"})  # type: ignore[arg-type]


def test_tenant_scope_overrides_any_tenant_filter() -> None:
    sea = User("sea", Role.TENANT, "seaside", "scrypt$")
    ops = User("ops", Role.OPERATOR, None, "scrypt$")
    asked = DlqFilter(tenants=frozenset({"alpine"}), reasons=frozenset({"bad_magic"}))
    assert scoped(sea, asked).tenants == {"seaside"}
    assert scoped(sea, asked).reasons == {"bad_magic"}
    assert scoped(ops, asked) is asked
    assert may_see(sea, _dl(tenant="seaside"))
    assert not may_see(sea, _dl(tenant="alpine"))
    assert not may_see(sea, _dl(tenant="alpine", header_tenant="seaside"))
    assert may_see(ops, _dl(tenant="alpine"))
