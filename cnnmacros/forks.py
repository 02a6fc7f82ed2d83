"""Work shared among processes forked from this one, one per core, answered in the order given.

``check`` of a folder and the site's architecture pages are one independent piece of work per
file, most of it SymPy's: two cores do it in a little over half the time. The processes are forked
after the imports, so each starts at once with everything the parent has read.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

_work: Callable[[Any], Any] | None = None
"""The function of the ``in_order`` call under way, for the forked processes to find: set just
before they are forked and cleared once they are done, so nothing outlives the call."""


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Whether forking is safe here: a platform with ``fork``, and no other thread (``mkdocs
    serve`` rebuilds in its server's thread, and a fork copies any lock another thread holds)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _call(item: Any) -> Any:
    assert _work is not None
    return _work(item)


def in_order(
    work: Callable[[Item], Answer], items: list[Item], weight: Callable[[Item], int], least: int = 2
) -> Iterator[Answer]:
    """``work`` of each item, yielded in the order of ``items``. With ``least`` items or more and
    more than one core, the items are shared among forked processes, the heaviest (``weight``)
    first so that the shares even out; ``work``'s answers must pickle. An exception in ``work``
    reaches the caller; a process that dies (the kernel's out-of-memory killer, a signal) leaves
    its items and the rest to this process, never a build that waits forever."""
    global _work
    processes = min(cores(), len(items))
    if len(items) < least or processes < 2 or not can_fork():
        yield from map(work, items)
        return
    by_weight = sorted(range(len(items)), key=lambda i: -weight(items[i]))
    _work = work
    # every process is forked at the first submit, before the pool starts its own thread
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
    try:
        answers = {i: pool.submit(_call, items[i]) for i in by_weight}
        for index, item in enumerate(items):
            try:
                answer = answers.pop(index).result()
            except BrokenProcessPool:
                answer = work(item)
            yield answer
    finally:
        pool.shutdown(cancel_futures=True)
        _work = None
