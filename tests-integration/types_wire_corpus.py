"""The corpus of the flyte-types wire-compatibility test, and the peer side of the exchange.

This file runs unchanged under *either* SDK: it only uses ``flyte.types.TypeEngine``'s public API
(``to_literal_type``, ``to_literal``, ``to_python_value``), so the test runs it in flyte 2.12.1's
venv and in ours. ``write DIR`` stores every case's literal and literal type (deterministic
serialization); ``read DIR OUT`` decodes the literals found in DIR and writes a JSON report of
which decoded to the expected value.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import enum
import json
import sys
import typing
from pathlib import Path
from typing import Any, NamedTuple, Optional, TypedDict, Union

import pydantic
from google.protobuf import struct_pb2

UTC = datetime.timezone.utc


@dataclasses.dataclass
class Inner:
    a: int
    b: str


@dataclasses.dataclass
class Item:
    x: int
    y: float
    inner: Inner
    opt: Optional[int] = None  # noqa: UP045
    tags: list[str] = dataclasses.field(default_factory=list)
    nested: list[Inner] = dataclasses.field(default_factory=list)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Sub(pydantic.BaseModel):
    a: int
    b: str
    c: float


class Top(pydantic.BaseModel):
    name: str
    items: list[Sub]


class Point(NamedTuple):
    x: int
    label: str


class Movie(TypedDict):
    title: str
    year: int


class Opaque:
    """Pickled: an ordinary class nothing knows how to convert."""

    def __init__(self, v: int):
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.v == self.v

    def __hash__(self) -> int:
        return self.v


def _struct() -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update({"a": 1.0, "b": ["x", True], "c": {"d": None}})
    return s


Mode = typing.Literal["fast", "slow"]

# name -> (type, value)
CASES: dict[str, tuple[Any, Any]] = {
    "int": (int, 42),
    "int_negative": (int, -(2**63)),
    "float": (float, 2.5),
    "str": (str, "héllo"),
    "bool": (bool, True),
    "none": (type(None), None),
    "datetime": (datetime.datetime, datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    "datetime_pre_epoch": (datetime.datetime, datetime.datetime(1950, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    "date": (datetime.date, datetime.date(2024, 1, 2)),
    "timedelta": (datetime.timedelta, datetime.timedelta(days=2, seconds=5, microseconds=3)),
    "timedelta_negative": (datetime.timedelta, datetime.timedelta(seconds=-5, microseconds=-3)),
    "list_int": (list[int], [0, 1, 127, 128, 300, -1, 2**40]),
    "list_float": (list[float], [0.5, -1.25, 3.0]),
    "list_str": (list[str], ["a", "", "ü"]),
    "list_list_int": (list[list[int]], [[1, 2], [], [3]]),
    "dict_str_float": (dict[str, float], {"a": 0.5, "b": 1.5}),
    "dict_str_list_int": (dict[str, list[int]], {"a": [1], "b": []}),
    "untyped_dict": (dict, {"a": 1, "b": [1, 2], "c": {"d": "e"}}),
    "dict_int_str": (dict[int, str], {1: "a", 2: "b"}),
    "tuple": (tuple[int, str], (1, "a")),
    "named_tuple": (Point, Point(3, "p")),
    "typed_dict": (Movie, Movie(title="t", year=1999)),
    "dataclass": (Item, Item(1, 2.5, Inner(3, "b"), None, ["t"], [Inner(4, "c")])),
    "dataclass_optional_set": (Item, Item(1, 2.5, Inner(3, "b"), 7)),
    "list_dataclass": (list[Item], [Item(i, i + 0.5, Inner(i, str(i))) for i in range(3)]),
    "pydantic": (Top, Top(name="t", items=[Sub(a=1, b="x", c=0.5), Sub(a=2, b="y", c=1.5)])),
    "enum": (Color, Color.GREEN),
    "literal": (Mode, "slow"),
    "optional_int_set": (Optional[int], 5),  # noqa: UP045
    "optional_int_none": (Optional[int], None),  # noqa: UP045
    "union_int_str": (Union[int, str], "x"),  # noqa: UP007
    "optional_dataclass": (Optional[Inner], Inner(1, "a")),  # noqa: UP045
    "list_optional_int": (list[Optional[int]], [1, None]),  # noqa: UP045
    "protobuf_struct": (struct_pb2.Struct, _struct()),
    "pickle": (Opaque, Opaque(7)),
}


def declared(name: str) -> Any:
    """The type to declare on this side. flyte 2.12.1 handles Literal only in task signatures,
    by turning it into an Enum named LiteralEnum; use that same conversion when running there."""
    t = CASES[name][0]
    if typing.get_origin(t) is typing.Literal:
        try:
            from flyte._interface import literal_to_enum  # flyte 2.12.1 only

            return literal_to_enum(t)
        except ImportError:
            return t
    return t


async def encode_all() -> dict[str, tuple[bytes, bytes]]:
    """name -> (literal type, literal), both serialized deterministically."""
    from flyte.types import TypeEngine

    out = {}
    for name, (_, value) in CASES.items():
        t = declared(name)
        lt = TypeEngine.to_literal_type(t)
        lit = await TypeEngine.to_literal(value, t, lt)
        out[name] = (lt.SerializeToString(deterministic=True), lit.SerializeToString(deterministic=True))
    return out


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (lt, lit) in asyncio.run(encode_all()).items():
        (out / f"{name}.lt").write_bytes(lt)
        (out / f"{name}.lit").write_bytes(lit)


async def decode_all(literals: dict[str, bytes]) -> dict[str, str]:
    """name -> "ok" when the literal decodes to the case's value, else what went wrong."""
    from flyteidl2.core import literals_pb2

    from flyte.types import TypeEngine

    report = {}
    for name, (_, value) in CASES.items():
        try:
            lit = literals_pb2.Literal.FromString(literals[name])
            back = await TypeEngine.to_python_value(lit, declared(name))
            report[name] = "ok" if back == value and type(back) is type(value) else f"mismatch: {back!r}"
        except Exception as e:
            report[name] = f"error: {type(e).__name__}: {e}"
    return report


def read(src: Path) -> dict[str, str]:
    return asyncio.run(decode_all({name: (src / f"{name}.lit").read_bytes() for name in CASES}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    import types_wire_corpus as corpus  # the importable copy, so pickles name this module

    if sys.argv[1] == "write":
        corpus.write(Path(sys.argv[2]))
    else:
        Path(sys.argv[3]).write_text(json.dumps(corpus.read(Path(sys.argv[2]))))
