"""The workers' shared connection counts (sandbox/workers/balance.py)."""

from __future__ import annotations

import os

from sandbox.workers.balance import ConnectionCounts


def test_a_worker_yields_only_to_one_holding_fewer():
    counts = ConnectionCounts(3)
    a, b = counts.seat(), counts.seat()
    assert a is not None and b is not None and a.index != b.index
    a.publish(4)
    b.publish(3)
    assert a.another_holds_fewer(4) and not b.another_holds_fewer(3)
    b.publish(4)
    assert not a.another_holds_fewer(4)  # equal: both take


def test_a_freed_seat_is_not_counted_and_is_given_again():
    counts = ConnectionCounts(2)
    a, b = counts.seat(), counts.seat()
    assert counts.seat() is None  # all taken: that worker balances nothing
    a.publish(5)
    assert a.another_holds_fewer(5)  # b holds 0
    counts.free(b)
    assert not a.another_holds_fewer(5)
    again = counts.seat()
    assert again is not None and again.index == b.index
    assert a.another_holds_fewer(5)  # a new worker starts at 0


def test_counts_are_shared_with_forked_workers():
    counts = ConnectionCounts(2)
    parent, child = counts.seat(), counts.seat()
    pid = os.fork()
    if pid == 0:  # the worker: publish and leave at once
        child.publish(7)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent.another_holds_fewer(8) and not parent.another_holds_fewer(7)
