"""Server-side console sessions: logging out ends a session, whoever kept its cookie.

A signed cookie alone cannot be revoked: a copy saved before logout stays valid until it
expires. So the cookie carries only a random session id (still signed, with the CSRF
token beside it) and the session itself lives here; logout, an expiry or a restart of the
console forgets it, and the id then opens nothing. The store is in the console process:
behind several replicas, route each user to one replica (sticky sessions), or a login on
one is unknown to the others.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    expires: float


class SessionStore:
    """Live sessions by id, each ending ``lifetime`` seconds after login at the latest.

    A user has at most ``per_user`` sessions; a new login beyond that ends their oldest,
    so a script that logs in over and over cannot grow the store without bound.
    """

    def __init__(self, lifetime: float, clock: Clock = time.monotonic, per_user: int = 20) -> None:
        self.lifetime = lifetime
        self.per_user = per_user
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()  # routes run in FastAPI's thread pool

    def start(self, user: str) -> str:
        """A new session of ``user``; returns its id (for the cookie)."""
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires > now}
            mine = [k for k, s in self._sessions.items() if s.user == user]  # oldest first
            for old in mine[: max(0, len(mine) - self.per_user + 1)]:
                del self._sessions[old]
            self._sessions[sid] = Session(user, now + self.lifetime)
        return sid

    def user(self, sid: str) -> str | None:
        """Whose session ``sid`` is, or None once it ended (logout, expiry, restart)."""
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None and session.expires <= self._clock():
                del self._sessions[sid]
                session = None
        return session.user if session else None

    def end(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)
