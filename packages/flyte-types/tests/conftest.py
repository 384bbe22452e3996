from __future__ import annotations

import dataclasses
import enum
import typing

import pytest

from flyte.types import TypeEngine


@dataclasses.dataclass
class Inner:
    a: int
    b: str


@dataclasses.dataclass
class Item:
    x: int
    y: float
    inner: Inner
    opt: typing.Optional[int] = None  # noqa: UP045 - the typing spelling is what users write
    tags: list[str] = dataclasses.field(default_factory=list)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Point(typing.NamedTuple):
    x: int
    label: str


class Movie(typing.TypedDict):
    title: str
    year: int


@pytest.fixture
def roundtrip():
    def run(value, t):
        lit = TypeEngine.to_literal_sync(value, t, TypeEngine.to_literal_type(t))
        # What crosses a process boundary is the serialized form.
        parsed = type(lit).FromString(lit.SerializeToString())
        return lit, TypeEngine.to_python_value_sync(parsed, t)

    return run
