"""Admin-client work in a child process, for the tools that run for hours.

librdkafka 2.16.0 can abort the whole process when a coordinator-targeted admin request
(listing a group's offsets, describing a group) loses its connection: "Assertion
`eonce->refcnt > 0' failed" (docs/reliability.md, Finding 8). A one-shot command is simply
run again, but the console and ``frontdesk lag --watch`` must outlive a broker restart. They
measure through `Isolated`, which runs the calls in a single ``spawn``-ed child and turns
the child's death into `IsolatedProcessDied`; the next call starts a fresh child.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from frontdesk.errors import FrontdeskError

P = ParamSpec("P")
R = TypeVar("R")


class IsolatedProcessDied(FrontdeskError):
    """The child process died mid-call (an abort inside librdkafka); nothing was returned."""


class Isolated:
    """One child process running calls one at a time. ``fn`` and its arguments and result
    must pickle: ``fn`` is a module-level function, imported again in the child."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._pool is None:
            # spawn, not fork: a forked copy of a process with librdkafka threads is unsafe.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        try:
            return self._pool.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool as exc:
            self._pool.shutdown(wait=False)
            self._pool = None
            raise IsolatedProcessDied(
                f"the process measuring for this one died in {fn.__name__} (a librdkafka fault "
                "while a broker was away); the next call starts a new one"
            ) from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


__all__ = ["Isolated", "IsolatedProcessDied"]
