"""config.record: the frozen records settings and facts are built on behave as the
frozen dataclasses they replace (fields, defaults, equality, replace), at no cost to
define."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portreg.config import ComposeSettings, ScannerSettings, Settings, TiltSettings
from portreg.config.kinds import KINDS
from portreg.config.record import Record, fields_of, has_field, replace, setting


class Base(Record):
    enabled: bool = setting(default=True, key="enabled")
    files: tuple[str, ...] = ()


class Child(Base):
    extra: list[int] = setting(default_factory=list)
    note: str = setting(default="", compare=False)
    LIMIT: ClassVar[int] = 3


class Needs(Record):
    name: str
    size: int = 1

    @cached_property
    def doubled(self) -> int:
        return self.size * 2


def test_fields_come_in_declaration_order_a_subclass_after_its_base() -> None:
    assert [f.name for f in fields_of(Child)] == ["enabled", "files", "extra", "note"]
    assert [f.key for f in fields_of(Child)] == ["enabled", None, None, None]
    assert has_field(Child, "extra")
    assert not has_field(Base, "extra")
    assert not has_field(Child, "LIMIT")  # a ClassVar is no field
    assert Child.LIMIT == 3


def test_defaults_and_a_fresh_default_from_the_factory_each_time() -> None:
    one, two = Child(), Child()
    assert (one.enabled, one.files, one.extra, one.note) == (True, (), [], "")
    assert one.extra is not two.extra


def test_positional_and_keyword_values() -> None:
    assert Needs("a", 5) == Needs(name="a", size=5) == Needs("a", size=5)
    assert Needs("a").size == 1


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "Needs: name is required"),
        ((), {"name": "a", "colour": "red"}, "Needs has no field colour"),
        (("a",), {"name": "b"}, "Needs: name given twice"),
        (("a", 1, 2), {}, "Needs takes 2 fields, got 3"),
    ],
)
def test_a_wrong_construction_says_which_field(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError) as caught:
        Needs(*args, **kwargs)
    assert str(caught.value) == message


def test_a_record_is_frozen() -> None:
    record = Needs("a")
    with pytest.raises(AttributeError, match="Needs is frozen: cannot set name"):
        record.name = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="Needs is frozen: cannot delete name"):
        del record.name  # type: ignore[misc]
    assert record.name == "a"


def test_equality_compares_the_compared_fields_of_one_class() -> None:
    assert Child(note="x") == Child(note="y")
    assert hash(Needs("a", 2)) == hash(Needs("a", 2))
    assert Child(files=("a",)) != Child(files=("b",))
    assert Base() != Child()  # same values, another class
    assert Needs("a") != ("a", 1)


def test_replace_changes_what_it_names_and_derives_the_rest_again() -> None:
    record = Needs("a", 2)
    assert record.doubled == 4
    changed = replace(record, size=5)
    assert (type(changed), changed.name, changed.size, changed.doubled) == (Needs, "a", 5, 10)
    assert record.size == 2
    with pytest.raises(TypeError, match="Needs has no field colour"):
        replace(record, colour="red")


def test_a_mapping_field_left_out_of_the_hash_still_counts_for_equality() -> None:
    class Held(Record):
        name: str
        table: dict[str, int] = setting(default_factory=dict, hash=False)

    assert hash(Held("a", {"x": 1})) == hash(Held("a", {"x": 2}))
    assert Held("a", {"x": 1}) != Held("a", {"x": 2})
    settings = Settings(root=Path("."))
    assert {settings, replace(settings)} == {settings}  # as the frozen dataclass hashed


def test_the_class_keeps_each_default_and_a_pattern_takes_the_fields_in_order() -> None:
    assert (Child.enabled, Child.files, Child.note) == (True, (), "")
    assert not hasattr(Needs, "name")  # a required field has no class value
    assert not hasattr(Child, "extra")  # nor has one whose default is made each time
    match Needs("a", 7):
        case Needs(name, size):
            assert (name, size) == ("a", 7)
        case _:
            pytest.fail("Needs(name, size) did not match")


def test_repr_names_every_field() -> None:
    assert repr(Needs("a")) == "Needs(name='a', size=1)"


def test_the_settings_sections_keep_their_keys_and_defaults() -> None:
    assert [f.name for f in fields_of(TiltSettings)] == ["enabled", "files", "docker_compose"]
    assert [f.name for f in fields_of(ComposeSettings)] == ["enabled", "files", "projects"]
    settings = Settings(root=Path("."))
    assert settings.tilt.files == TiltSettings(files=settings.tilt.files).files
    assert settings.section("tilt") is settings.tilt
    assert settings.section("manifests") == ScannerSettings(files=KINDS["manifests"].files)
    with pytest.raises(AttributeError):
        settings.registry = "elsewhere.json"  # type: ignore[misc]
    # the layout found in the files is no part of what a config says
    assert replace(settings, layout={"kind": {}}) == settings


@given(
    st.tuples(st.booleans(), st.lists(st.text(max_size=3), max_size=3).map(tuple)),
    st.tuples(st.booleans(), st.lists(st.text(max_size=3), max_size=3).map(tuple)),
)
def test_equal_exactly_when_the_values_are(
    left: tuple[bool, tuple[str, ...]], right: tuple[bool, tuple[str, ...]]
) -> None:
    one = Base(enabled=left[0], files=left[1])
    two = Base(*right)
    assert (one == two) == (left == right)
    assert replace(one) == one
    assert replace(one, files=right[1]).files == right[1]
