"""The NodePort formula, declared once: its arithmetic and its text.

A service's NodePort is ``node-port-base + (port - node-port-offset)`` (the seed's:
31000 + (port - 8000)). A different formula is a change to this module alone.
"""

from __future__ import annotations


def node_port(base: int, offset: int, port: int) -> int:
    """The NodePort the formula gives ``port``."""
    return base + (port - offset)


def port_for(base: int, offset: int, node_port: int) -> int:
    """The port whose NodePort the formula makes ``node_port`` (its inverse)."""
    return node_port - base + offset


def formula_text(
    base: object = "node-port-base",
    offset: object = "node-port-offset",
    port: object = "port",
) -> str:
    """The formula as messages, notes and pages write it: ``31000 + (port - 8000)``; each
    part a number or a name."""
    return f"{base} + ({port} - {offset})"
