"""Run a list of independent jobs on two cores: part in a forked child, part here.

``check`` on a cold cache spends most of its time parsing files one by one,
and the machines it runs on (laptops, CI runners) have at least two cores.
The child inherits everything (config, scanners, imported modules) through
``fork``, runs its share and sends the results back through a pipe, as one
``marshal`` blob (plain lists from our own child: C-fast both ways). Nothing
else crosses: the child writes no file and prints nothing, and leaves with
``os._exit`` (no atexit handlers, no stdio flush).

The split is by weight (file size), heaviest first to the side furthest
below its share, so a big kind-config and a thousand small values files
still come out even; the child gets the smaller share (:data:`CHILD_SHARE`)
because it starts cold. If the child fails in any way, the parent runs the
child's share itself, so a result never depends on whether the split
happened. Where ``fork`` does not exist, or there is only one core, or the
work is too small to pay for a fork (about a millisecond), everything runs
here.
"""

from __future__ import annotations

import gc
import marshal
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

SMALLEST = 256 * 1024
"""Below this many bytes of input in all, the fork costs more than it saves."""


CHILD_SHARE = 0.4
"""The child's part of the work: it starts cold (every page it touches is copied
from the parent) and must send its results back, so it gets less than half."""


def split_even(weights: Sequence[int], share: float = CHILD_SHARE) -> tuple[list[int], list[int]]:
    """Indexes for (here, there): heaviest first, each to the side furthest below its
    share (``share`` of the weight goes there)."""
    here: list[int] = []
    there: list[int] = []
    load = [0.0, 0.0]
    parts = (1 - share, share)
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        side = 0 if load[0] / parts[0] <= load[1] / parts[1] else 1
        (here if side == 0 else there).append(index)
        load[side] += weights[index]
    return sorted(here), sorted(there)


def worth_splitting(weights: Sequence[int]) -> bool:
    cores = os.cpu_count() or 1
    return hasattr(os, "fork") and cores >= 2 and sum(weights) >= SMALLEST and len(weights) > 1


def run_all(
    jobs: Sequence[Job],
    weights: Sequence[int],
    work: Callable[[Job], Result],
    encode: Callable[[Result], object],
    decode: Callable[[object], Result | None],
) -> list[Result]:
    """``[work(job) for job in jobs]``, split over two processes when it pays.

    ``work`` must not raise (errors are part of its result); the child's results
    cross the pipe as ``encode`` gives them (plain lists, dicts, str, int) and
    come back through ``decode``, which returns None for anything it refuses.
    """
    if not worth_splitting(weights):
        return [work(job) for job in jobs]
    here, there = split_even(weights)
    results: dict[int, Result] = {}

    def child() -> bytes:
        return marshal.dumps([encode(work(jobs[i])) for i in there])

    def parent() -> None:
        for index in here:
            results[index] = work(jobs[index])

    sent = _sent_list(_forked(child, parent))
    back = [decode(item) for item in sent] if sent is not None and len(sent) == len(there) else []
    for index, result in zip(there, back, strict=False):
        if result is not None:
            results[index] = result
    return [results[i] if i in results else work(job) for i, job in enumerate(jobs)]


def _forked(child: Callable[[], bytes], parent: Callable[[], None]) -> bytes | None:
    """Run ``child`` in a forked process and ``parent`` here; the child's bytes, or None."""
    read_end, write_end = os.pipe()
    gc.freeze()  # the collector would otherwise touch (and so copy) every inherited page
    pid = os.fork()
    if pid == 0:  # the child: work, send, leave without running anything else
        code = 1
        gc.disable()
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as sink:
                sink.write(child())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    source = os.fdopen(read_end, "rb")
    try:
        parent()
        data = source.read()
    finally:
        source.close()  # a child still writing gets EPIPE and leaves: never wait on a full pipe
        _, status = os.waitpid(pid, 0)
    return data if status == 0 else None


def _sent_list(data: bytes | None) -> list[object] | None:
    """The child's results (``marshal``: our own child's plain lists, a pipe away)."""
    try:
        sent = marshal.loads(data) if data is not None else None
    except (ValueError, EOFError, TypeError):
        return None
    return sent if isinstance(sent, list) else None
