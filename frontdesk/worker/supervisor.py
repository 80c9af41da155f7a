"""Run N worker processes of one app in one consumer group and keep them running.

Python handlers are bound to one core by the GIL; more processes in the same group is how
a host uses its cores (and Kafka spreads partitions across them). The supervisor starts
each *slot* as ``python -m frontdesk.worker MODULE:APP --slot i``; a slot that dies is
started again after a back-off (doubling while it keeps crashing, reset once it has run a
while). A slot's worker id is ``<host>-<supervisor pid>-<slot>``, the same across
restarts, so its transactional id is too: the restarted process fences its dead
predecessor and aborts any hand-off transaction it left open, instead of waiting for the
transaction timeout. Slots are *not* static group members (``group.instance.id``): with
librdkafka's cooperative-sticky assignor that left partitions unassigned after a series
of kills (docs/reliability.md), so a dead slot's partitions still move after the session
timeout.

SIGTERM/SIGINT are forwarded to every child (each drains and commits); children still
running after the grace period are killed.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("frontdesk.supervisor")

STABLE_AFTER = 5.0
"""A child that ran this long had started (a worker is up in 2-3 s): its back-off resets,
so a slot killed from outside comes back after the first short delay, and only a child
that dies while starting (a crash loop) waits longer and longer."""


@dataclass
class _Slot:
    index: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = 0.5
    next_start: float = 0.0
    restarts: int = 0
    exits: list[int] = field(default_factory=list)


class Supervisor:
    """Starts, watches and restarts the worker slots; stops them on a signal."""

    def __init__(
        self,
        target: str,
        processes: int,
        child_args: Sequence[str] = (),
        *,
        grace: float = 45.0,
        max_backoff: float = 30.0,
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.target = target
        self.child_args = list(child_args)
        self.grace = grace
        self.max_backoff = max_backoff
        self.slots = [_Slot(i) for i in range(processes)]
        self._stopping = False

    def command(self, slot: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "frontdesk.worker",
            self.target,
            "--slot",
            str(slot),
            *self.child_args,
        ]

    def _start(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen(self.command(slot.index))
        slot.started = time.monotonic()
        log.info("slot %d started (pid %d)", slot.index, slot.process.pid)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        log.info("supervisor stopping %d worker(s)", len(self.slots))
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(signal.SIGTERM)

    def run(self) -> int:
        """Supervise until stopped; 0 when every child stopped cleanly."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for slot in self.slots:
            self._start(slot)
        while not self._stopping:
            now = time.monotonic()
            for slot in self.slots:
                self._watch(slot, now)
            time.sleep(0.2)
        return self._wait_all()

    def _watch(self, slot: _Slot, now: float) -> None:
        process = slot.process
        if process is None:
            if now >= slot.next_start:
                slot.restarts += 1
                self._start(slot)
            return
        code = process.poll()
        if now - slot.started > STABLE_AFTER:
            slot.backoff = 0.5
        if code is None:
            return
        slot.exits.append(code)
        slot.process = None
        slot.next_start = now + slot.backoff
        log.error(
            "slot %d (pid %d) exited with %s; restarting in %.1fs",
            slot.index,
            process.pid,
            code,
            slot.backoff,
        )
        slot.backoff = min(slot.backoff * 2, self.max_backoff)

    def _wait_all(self) -> int:
        deadline = time.monotonic() + self.grace
        status = 0
        for slot in self.slots:
            process = slot.process
            if process is None:
                continue
            try:
                code = process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("slot %d did not stop in time; killing it", slot.index)
                process.kill()
                code = process.wait()
            status = status or (0 if code == 0 else 1)
        return status


__all__ = ["Supervisor"]
