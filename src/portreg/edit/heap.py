"""Building a parser's whole tree without the cyclic garbage collector in between."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, and turn it back on after (if it was).

    A parser building the tree of a large file (4 MB of YAML is 700,000 nodes, each
    with its marks) makes millions of container objects, none of them garbage; the
    collector would walk the growing heap again and again while they are made, which
    took most of a read (issue 19: 7 of 9 s). Reference counting frees everything as
    before; only the walks in between are skipped.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
