"""Login throttling: after a few wrong passwords, a name or an address must wait.

Each failed login counts against the user name tried and against the client address.
After ``free`` failures on either, that key is locked for ``base`` seconds, doubling with
every further failure up to ``cap``: guessing a password from one address, or spraying one
account from many, slows to a few tries an hour. While a key is locked every attempt is
refused before the password is even checked, the right one too (otherwise the lockout
would only slow a guesser down to the speed of the error page), and the user is told for
how long. A success clears the counts of that name and address. Each lockout is logged.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from frontdesk.console.sessions import Clock

log = logging.getLogger("frontdesk.console.login")

MAX_KEYS = 10_000
"""Keys remembered at most; the oldest unlocked ones are forgotten first."""


@dataclass(slots=True)
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        *,
        free: int = 5,
        base: float = 30.0,
        cap: float = 900.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.free, self.base, self.cap = free, base, cap
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(user: str, address: str) -> tuple[str, str]:
        # Truncated: a name is whatever the form sent, and each one is remembered a while.
        return (f"user:{user.strip().lower()[:128]}", f"address:{address[:64]}")

    def wait(self, user: str, address: str) -> int:
        """Whole seconds until ``user`` may try again from ``address``; 0 when free to."""
        now = self._clock()
        with self._lock:
            until = max(
                (r.locked_until for k in self.keys(user, address) if (r := self._records.get(k))),
                default=0.0,
            )
        return max(0, math.ceil(until - now))

    def failed(self, user: str, address: str) -> None:
        """Count a wrong password; lock (and log) a key that has used up its free tries."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            for key in self.keys(user, address):
                record = self._records.setdefault(key, _Record())
                record.failures += 1
                record.last = now
                over = record.failures - self.free
                if over >= 0:
                    delay = min(self.cap, self.base * 2 ** min(over, 32))
                    record.locked_until = now + delay
                    log.warning(
                        "console login locked for %ds: %s after %d failed attempts "
                        "(last: user %r from %s)",
                        delay,
                        key,
                        record.failures,
                        user[:64],
                        address,
                    )

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            for key in self.keys(user, address):
                self._records.pop(key, None)

    def _prune(self, now: float) -> None:
        """Forget keys idle for longer than the longest lockout, then the oldest if full."""
        stale = [k for k, r in self._records.items() if r.locked_until < now - self.cap]
        stale = [k for k in stale if self._records[k].last < now - self.cap]
        for key in stale:
            del self._records[key]
        if len(self._records) >= MAX_KEYS:
            unlocked = sorted(
                (r.last, k) for k, r in self._records.items() if r.locked_until <= now
            )
            for _, key in unlocked[: len(self._records) - MAX_KEYS + 1]:
                del self._records[key]
