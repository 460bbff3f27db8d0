"""The one exception hierarchy of portreg.

Every error a user can cause (a bad name, a broken file, a full range, a busy
lock) is a :class:`PortregError`. ``cli.main`` catches it once and prints
``portreg: error: <where>: <what> (<what to do>)`` with the exit code below.

Exit codes: 0 done; 1 nothing found (``query``) or ``check`` found errors;
2 the user must fix something first.
"""

from __future__ import annotations

from typing import NamedTuple

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USER = 2


class PortregError(Exception):
    """Base of every error portreg reports to a user."""

    exit_code = EXIT_USER

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def line(self) -> str:
        """One line: what, where, and what to do."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split("\n"))


class ConfigError(PortregError):
    """portreg.toml / [tool.portreg] is wrong."""


class ServiceNameError(PortregError):
    """A service name is not a DNS-1035 label."""


class RegistryError(PortregError):
    """The registry document cannot be read or is inconsistent."""


class RangeFullError(PortregError):
    """No free port is left in the configured range."""


class PortTakenError(PortregError):
    """The requested port belongs to someone else or is reserved."""


class NotFoundError(PortregError):
    """A service has no port (``query``, ``release``, ``update-configs``): exit 1."""

    exit_code = EXIT_NOT_FOUND


def no_port(service: str, hint: str | None = None) -> NotFoundError:
    """The one way portreg says a service has no port (``query``, ``release``, ...): exit 1."""
    hint = hint or f"assign one with: portreg assign {service} --update-configs"
    return NotFoundError(f"service '{service}' has no port assigned", hint=hint)


class LockTimeoutError(PortregError):
    """Another process held the registry lock for too long."""


class FileEditError(PortregError):
    """A config file cannot be edited faithfully; nothing was written."""


class WriteError(PortregError):
    """Writing a file failed; every file already written was put back."""


class StoreError(PortregError):
    """The registry store (file or etcd) cannot be reached or used."""


class StoreConflictError(StoreError):
    """Another writer changed the registry first; the command may retry."""


def redact_url(url: str) -> str:
    """``url`` with anything that could be userinfo (before the last ``@``) as ``***``.

    Generous on purpose: a password may hold ``/`` or ``:``, and a URL may lack its scheme.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    hidden = f"***@{rest.rpartition('@')[2]}"
    return f"{scheme}://{hidden}" if sep else hidden


class Problem(NamedTuple):
    """A problem found in a file and reported, not raised (a file a scanner cannot read,
    a stale docs table): ``path:line``, what is wrong, and what to do."""

    path: str
    line: int
    message: str
    hint: str = ""
