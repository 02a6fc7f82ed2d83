"""Work shared among forked processes: answers in the order given, from other processes when
there are cores for it, and in this process where forking is not safe."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from cnnmacros import forks


def _square_and_process(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def test_answers_come_in_the_order_given_from_other_processes() -> None:
    items = [3, 9, 1, 7, 5, 2, 8]
    answers = list(forks.in_order(_square_and_process, items, weight=lambda n: n))
    assert [square for square, _ in answers] == [9, 81, 1, 49, 25, 4, 64]
    processes = {process for _, process in answers}
    assert os.getpid() not in processes if forks.cores() > 1 else processes == {os.getpid()}
    assert forks._work is None  # nothing outlives the call


def test_a_closure_is_shared_too() -> None:
    """The function is found by the forked processes, not pickled: a closure works."""
    offset = 100
    assert list(forks.in_order(lambda n: n + offset, [1, 2, 3, 4], weight=lambda n: -n)) == [101, 102, 103, 104]


def test_few_items_or_another_thread_keep_the_work_here() -> None:
    assert {p for _, p in forks.in_order(_square_and_process, [4], weight=int)} == {os.getpid()}
    stop = threading.Event()
    server = threading.Thread(target=stop.wait)  # as mkdocs serve's server thread
    server.start()
    try:
        assert not forks.can_fork()
        answers = list(forks.in_order(_square_and_process, [1, 2, 3, 4], weight=int))
    finally:
        stop.set()
        server.join()
    assert answers == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid()), (16, os.getpid())]


def test_an_error_in_a_forked_process_reaches_the_caller() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        return n

    with pytest.raises(ValueError, match="three"):
        list(forks.in_order(work, [1, 2, 3, 4], weight=int))
    assert forks._work is None


def test_a_process_that_dies_leaves_its_work_to_this_one() -> None:
    """As when the out-of-memory killer ends one: every answer still comes, none is waited for forever."""
    parent = os.getpid()

    def work(n: int) -> int:
        if n == 3 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return n * 10

    assert list(forks.in_order(work, [1, 2, 3, 4, 5, 6], weight=int)) == [10, 20, 30, 40, 50, 60]
    assert forks._work is None
