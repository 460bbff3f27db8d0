"""Frozen records defined without generated code: the settings sections and ``check``'s
facts.

A frozen dataclass compiles six methods with ``exec`` when its class is defined (about
4 M instructions each), and ``import dataclasses`` loads ``inspect`` and ``ast`` (about
30 M more): together a fifth of what ``portreg env`` costs at every shell prompt. A
``Record`` reads its fields from the class's annotations once, when the class is
defined, and shares one ``__init__``, ``__eq__`` and ``__repr__`` with every record.
Type checkers see it as a frozen dataclass (``dataclass_transform``).

A field's default is its class value, or ``setting(default=..., default_factory=...)``,
which may also carry the field's config ``key`` (``config.Key``), leave the field out
of comparisons (``compare=False``) or out of the hash only (``hash=False``: a mapping).

A record is not a dataclass: ``dataclasses.replace``, ``fields`` and ``asdict`` do not
take one (use :func:`replace` and :func:`fields_of`), though a type checker, which sees a
dataclass, would let them through; and :func:`replace` takes any changes (``Any``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, TypeVar, dataclass_transform

_MISSING: Any = object()


class Field(NamedTuple):
    name: str
    default: Any  # _MISSING: the field is required
    default_factory: Callable[[], Any] | None
    key: Any  # the config key the field declares (config.Key), or None
    compare: bool
    hash: bool


class _Setting(NamedTuple):
    default: Any
    default_factory: Callable[[], Any] | None
    key: Any
    compare: bool
    hash: bool


def setting(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    key: Any = None,
    compare: bool = True,
    hash: bool | None = None,  # dataclasses.field's name
) -> Any:
    """A field with a default (or a factory for one), a config key, or left out of ``==``
    or of the hash (by default, a field is hashed where it is compared)."""
    return _Setting(default, default_factory, key, compare, compare if hash is None else hash)


R = TypeVar("R", bound="Record")


@dataclass_transform(frozen_default=True, field_specifiers=(setting,))
class Record:
    """Fields in declaration order (a subclass's after its base's); frozen; equal when of
    one class with equal compared fields."""

    _fields: ClassVar[tuple[Field, ...]] = ()
    _names: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls) -> None:
        found = {f.name: f for f in cls._fields}
        # not inspect.get_annotations: importing inspect costs what this module saves
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, hint in own.items():
            if str(hint).startswith("ClassVar"):
                continue
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Setting):
                found[name] = Field(name, *value)
                if value.default is _MISSING:
                    delattr(cls, name)
                else:  # as a dataclass keeps it: the class attribute is the default
                    setattr(cls, name, value.default)
            else:
                found[name] = Field(name, value, None, None, True, True)
        cls._fields = tuple(found.values())
        cls._names = frozenset(found)
        # for ``case Settings(...)``; mypy, seeing a dataclass, holds the name read-only
        setattr(cls, "__match_args__", tuple(found))  # noqa: B010

    def __init__(self, *args: Any, **values: Any) -> None:
        cls = type(self)
        if len(args) > len(cls._fields):
            raise TypeError(f"{cls.__name__} takes {len(cls._fields)} fields, got {len(args)}")
        for f, value in zip(cls._fields, args, strict=False):
            if f.name in values:
                raise TypeError(f"{cls.__name__}: {f.name} given twice")
            values[f.name] = value
        for f in cls._fields:
            if f.name in values:
                value = values.pop(f.name)
            elif f.default_factory is not None:
                value = f.default_factory()
            elif f.default is not _MISSING:
                value = f.default
            else:
                raise TypeError(f"{cls.__name__}: {f.name} is required")
            object.__setattr__(self, f.name, value)
        if values:
            raise TypeError(f"{cls.__name__} has no field {next(iter(values))}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name}")

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in self._fields if f.compare)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in self._fields if f.hash))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self._fields)
        return f"{type(self).__name__}({shown})"


def fields_of(record: Record | type[Record]) -> tuple[Field, ...]:
    return record._fields


def has_field(record: Record | type[Record], name: str) -> bool:
    return name in record._names


def replace(record: R, **changes: Any) -> R:
    """A copy with some fields changed (derived values, like a cached property, are not
    copied)."""
    values = {f.name: getattr(record, f.name) for f in record._fields}
    return type(record)(**{**values, **changes})
