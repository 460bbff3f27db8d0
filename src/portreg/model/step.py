"""What a planner decided (pure values): the new registry state, the ports some
services' files should hold, the entries to delete, and what to tell the user.

Every writing command plans one Step inside ``Registry.transact``: ``assign``
and ``release`` decide a state and an assignment, ``reconcile`` and ``fix``
also decide ``moves`` and ``removals``, which the targets turn into edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portreg.model import Assignment, RegistryState


@dataclass(frozen=True)
class Move:
    """Bring ``service``'s entries in ``targets`` (None: every target) to ``port``."""

    service: str
    port: int
    targets: frozenset[str] | None = None


@dataclass
class Step:
    state: RegistryState
    assignment: Assignment | None = None
    new: bool = False
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    removals: list[tuple[str, str]] = field(default_factory=list)  # (target, service)

    def taken(self) -> set[int]:
        """The ports this step's moves hand out."""
        return {move.port for move in self.moves}
