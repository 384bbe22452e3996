"""The corpus of the flyte-types wire-compatibility test, and the peer side of the exchange.

This file runs unchanged under *either* SDK: it only uses ``flyte.types.TypeEngine``'s public API
(``to_literal_type``, ``to_literal``, ``to_python_value``) and ``flyte.io``'s ``File``, ``Dir``
and ``DataFrame``, so the test runs it in flyte 2.12.1's venv and in ours. ``write DIR`` stores
every case's literal and literal type (deterministic serialization); ``read DIR OUT`` decodes the
literals found in DIR and writes a JSON report of which decoded to the expected value.

Blob cases (files, folders, frames, large pickles) need a folder both sides can read: the
environment variable ``FLYTE_WIRE_SHARED`` names it. Their inputs (a file, a folder) live in
``$FLYTE_WIRE_SHARED/inputs``; what a side writes while encoding (parquet, uploaded pickles) goes
under ``DIR/raw``, its raw data path, and the other side reads it from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import enum
import json
import os
import sys
import tempfile
import typing
from collections.abc import Iterator
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


class Big:
    """Pickled and, being over the 10 KiB inline limit, uploaded as a blob by both SDKs.

    flyte 2.12.1 decides by ``sys.getsizeof`` (we by the pickled size), hence ``__sizeof__``.
    """

    def __init__(self, n: int):
        self.data = bytes(range(256)) * (n // 256)

    def __sizeof__(self) -> int:
        return len(self.data) + 64

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Big) and other.data == self.data

    def __hash__(self) -> int:
        return len(self.data)


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


# Cases whose values refer to blobs; built by blob_cases() once the shared folder is known.
BLOB_CASES = ("file", "dir", "dataframe_pandas", "dataframe_flyte", "pickle_large")


def case_names() -> list[str]:
    return sorted([*CASES, *BLOB_CASES])


def shared_folder() -> Path:
    return Path(os.environ.get("FLYTE_WIRE_SHARED") or Path(tempfile.gettempdir()) / "flyte-wire-shared")


def _frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"i": [1, 2, 3], "f": [0.5, -1.25, 3.0], "s": ["a", "bé", ""], "b": [True, False, True]})


def blob_cases() -> dict[str, tuple[Any, Any]]:
    """The blob cases, their inputs created (idempotently) under the shared folder."""
    import pandas as pd

    import flyte.io

    inputs = shared_folder() / "inputs"
    (inputs / "tree" / "sub").mkdir(parents=True, exist_ok=True)
    (inputs / "hello.txt").write_text("hello, wire\n")
    (inputs / "tree" / "a.txt").write_text("a")
    (inputs / "tree" / "sub" / "b.txt").write_text("b")
    return {
        "file": (flyte.io.File, flyte.io.File(path=str(inputs / "hello.txt"), format="txt")),
        "dir": (flyte.io.Dir, flyte.io.Dir(path=str(inputs / "tree"))),
        "dataframe_pandas": (pd.DataFrame, _frame()),
        "dataframe_flyte": (flyte.io.DataFrame, flyte.io.DataFrame.from_df(_frame())),
        "pickle_large": (Big, Big(16 * 1024)),
    }


def all_cases() -> dict[str, tuple[Any, Any]]:
    return {**CASES, **blob_cases()}


@contextlib.contextmanager
def raw_data_path(path: Path) -> Iterator[None]:
    """Write offloaded data under ``path``: flyte.io.use_raw_data_path here, the internal context there."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        from flyte.io import use_raw_data_path  # ours
    except ImportError:  # flyte 2.12.1
        from flyte._context import internal_ctx
        from flyte.models import RawDataPath

        with internal_ctx().new_raw_data_path(RawDataPath(path=str(path))):
            yield
        return
    with use_raw_data_path(str(path)):
        yield


def _same_frame(a: Any, b: Any) -> bool:
    # By values: the two venvs may run different pandas majors, whose string dtypes differ.
    return list(a.columns) == list(b.columns) and a.to_dict("list") == b.to_dict("list")


async def same(name: str, back: Any, value: Any) -> bool:
    """Whether ``back`` (decoded) is the case's ``value``; blob references compare by content."""
    if name == "file":
        with back.open_sync("rb") as fh:
            content = fh.read()
        return (
            type(back).__name__ == "File"
            and (back.path, back.name, back.format) == (value.path, value.name, value.format)
            and content == Path(value.path).read_bytes()  # noqa: ASYNC240 - a few bytes
        )
    if name == "dir":
        names = sorted(Path(f.path).name for f in back.walk_sync())
        return type(back).__name__ == "Dir" and back.path == value.path and names == ["a.txt", "b.txt"]
    if name == "dataframe_pandas":
        return _same_frame(back, value)
    if name == "dataframe_flyte":
        import pandas as pd

        return type(back).__name__ == "DataFrame" and _same_frame(await back.open(pd.DataFrame).all(), _frame())
    return bool(back == value and type(back) is type(value))


def declared(name: str) -> Any:
    """The type to declare on this side. flyte 2.12.1 handles Literal only in task signatures,
    by turning it into an Enum named LiteralEnum; use that same conversion when running there."""
    t = CASES[name][0] if name in CASES else blob_cases()[name][0]
    if typing.get_origin(t) is typing.Literal:
        try:
            from flyte._interface import literal_to_enum  # flyte 2.12.1 only

            return literal_to_enum(t)
        except ImportError:
            return t
    return t


async def encode_all(raw: Path) -> dict[str, tuple[bytes, bytes]]:
    """name -> (literal type, literal), both serialized deterministically; blobs go under ``raw``."""
    from flyte.types import TypeEngine

    out = {}
    with raw_data_path(raw):
        for name, (_, value) in all_cases().items():
            t = declared(name)
            lt = TypeEngine.to_literal_type(t)
            lit = await TypeEngine.to_literal(value, t, lt)
            out[name] = (lt.SerializeToString(deterministic=True), lit.SerializeToString(deterministic=True))
    return out


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (lt, lit) in asyncio.run(encode_all(out / "raw")).items():
        (out / f"{name}.lt").write_bytes(lt)
        (out / f"{name}.lit").write_bytes(lit)


async def decode_all(literals: dict[str, bytes]) -> dict[str, str]:
    """name -> "ok" when the literal decodes to the case's value, else what went wrong."""
    from flyteidl2.core import literals_pb2

    from flyte.types import TypeEngine

    report = {}
    for name, (_, value) in all_cases().items():
        try:
            lit = literals_pb2.Literal.FromString(literals[name])
            back = await TypeEngine.to_python_value(lit, declared(name))
            report[name] = "ok" if await same(name, back, value) else f"mismatch: {back!r}"
        except Exception as e:
            report[name] = f"error: {type(e).__name__}: {e}"
    return report


def read(src: Path) -> dict[str, str]:
    literals = {name: (src / f"{name}.lit").read_bytes() for name in case_names()}
    # flyte 2.12.1 wants a raw data path even to read a DataFrame; nothing is written there.
    with tempfile.TemporaryDirectory() as scratch, raw_data_path(Path(scratch)):
        return asyncio.run(decode_all(literals))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    import types_wire_corpus as corpus  # the importable copy, so pickles name this module

    if sys.argv[1] == "write":
        corpus.write(Path(sys.argv[2]))
    else:
        Path(sys.argv[3]).write_text(json.dumps(corpus.read(Path(sys.argv[2]))))
