"""Console users: a YAML file of names, roles and scrypt password hashes.

The file (``FRONTDESK_CONSOLE_USERS_FILE``, default ``deploy/console-users.yaml``)::

    users:
      ana:
        role: operator                 # sees and acts on every tenant
        password: "scrypt$16384$8$1$<salt b64>$<hash b64>"
      seaside-ops:
        role: tenant                   # sees and acts on one tenant only
        tenant: seaside-rentals
        password: "scrypt$..."

Write entries with ``frontdesk console add-user``; passwords never appear in clear. The
file is re-read when it changes, so removing a user takes effect without a restart.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from frontdesk.naming import validate_tenant_id

DEFAULT_USERS_FILE = Path("deploy/console-users.yaml")
USERS_FILE_ENV = "FRONTDESK_CONSOLE_USERS_FILE"

# scrypt cost: 2**14 x 8 uses 16 MiB and ~50 ms per check, the interactive-login setting
# of the scrypt paper; stored in each hash so it can be raised without invalidating old ones.
_N, _R, _P, _LEN = 2**14, 8, 1, 32


class UsersFileError(ValueError):
    """The users file is missing, unreadable or has an invalid entry."""


class Role(StrEnum):
    OPERATOR = "operator"
    TENANT = "tenant"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    tenant: str | None
    password_hash: str

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a ``hash_password`` string."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * int(n) * int(r) * int(p) + 2**20,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@functools.cache
def _dummy_hash() -> str:
    """Checked for unknown names, so a login takes as long whether or not the user exists."""
    return hash_password(secrets.token_hex(8))


def users_file(path: Path | str | None = None) -> Path:
    return Path(path or os.environ.get(USERS_FILE_ENV) or DEFAULT_USERS_FILE)


def _parse(data: Any, source: Path) -> dict[str, User]:
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise UsersFileError(f"{source}: expected a mapping 'users: {{name: {{role, ...}}}}'")
    users = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise UsersFileError(f"{source}: user {name!r} must be a mapping")
        try:
            role = Role(str(entry.get("role")))
        except ValueError:
            raise UsersFileError(
                f"{source}: user {name!r}: role must be 'operator' or 'tenant'"
            ) from None
        tenant = entry.get("tenant")
        if role is Role.TENANT:
            if not isinstance(tenant, str):
                raise UsersFileError(f"{source}: user {name!r} has role tenant but no tenant id")
            try:
                validate_tenant_id(tenant)
            except ValueError as exc:
                raise UsersFileError(f"{source}: user {name!r}: {exc}") from None
        elif tenant is not None:
            raise UsersFileError(f"{source}: user {name!r}: an operator has no tenant")
        password = entry.get("password")
        if not isinstance(password, str) or not password.startswith("scrypt$"):
            raise UsersFileError(f"{source}: user {name!r}: password must be a scrypt hash")
        users[str(name)] = User(str(name), role, tenant, password)
    return users


class UserStore:
    """The users of one file, re-read whenever its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._users: dict[str, User] = {}
        self.reload()

    def reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
            if mtime == self._mtime:
                return
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsersFileError(f"cannot read users file {self.path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise UsersFileError(f"{self.path}: not valid YAML: {exc}") from exc
        self._users = _parse(data, self.path)
        self._mtime = mtime

    def get(self, name: str) -> User | None:
        self.reload()
        return self._users.get(name)

    def authenticate(self, name: str, password: str) -> User | None:
        user = self.get(name)
        ok = verify_password(password, user.password_hash if user else _dummy_hash())
        return user if ok and user else None


def add_user(path: Path, name: str, password: str, role: Role, tenant: str | None = None) -> None:
    """Add or replace ``name`` in the users file (created if missing), keeping the others."""
    if role is Role.TENANT:
        if tenant is None:
            raise UsersFileError("a tenant user needs --tenant")
        validate_tenant_id(tenant)
    elif tenant is not None:
        raise UsersFileError("an operator sees every tenant: drop --tenant")
    data: dict[str, Any] = {"users": {}}
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        data = loaded if isinstance(loaded, dict) else data
        data.setdefault("users", {})
    entry: dict[str, str] = {"role": role.value, "password": hash_password(password)}
    if tenant:
        entry["tenant"] = tenant
    data["users"][name] = entry
    _parse(data, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
    tmp.chmod(0o600)  # hashes are still worth keeping from other local users
    tmp.replace(path)
