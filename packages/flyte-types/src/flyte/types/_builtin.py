"""Python values <-> plain msgpack-able data, for the fields of dataclasses, tuples and TypedDicts.

The shapes match what flyte 2.12.1 puts in its msgpack payloads: enums by value, datetimes and
dates as ISO strings, timedeltas as float seconds, tuples as lists, nested dataclasses as maps in
field order. A converter pair is compiled once per annotation; errors carry the path inside the
value (``.inner.name``, ``[3]``).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import typing
from collections.abc import Callable
from typing import Any

from flyte.types import _typing
from flyte.types._errors import TypeTransformerFailedError, ValueMismatch, expected, key_segment

Conv = Callable[[Any], Any]


def _decoding(err: ValueMismatch) -> ValueMismatch:
    err.decoding = True
    return err


def _identity(v: Any) -> Any:
    return v


def _check(kind: type | tuple[type, ...], label: str) -> Conv:
    def conv(v: Any) -> Any:
        if isinstance(v, kind) and not (isinstance(v, bool) and kind is int):
            return v
        raise expected(label, v)

    return conv


def _int(v: Any) -> Any:
    if type(v) is int or (isinstance(v, int) and not isinstance(v, bool)):
        return v
    raise expected("int", v)


def _float(v: Any) -> Any:
    if type(v) is float:
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise expected("float", v)


def _none(v: Any) -> Any:
    if v is None:
        return None
    raise expected("None", v)


def _parse_iso(v: Any, kind: str) -> datetime.datetime:
    if not isinstance(v, str):
        raise _decoding(expected(f"an ISO {kind} string", v))
    try:
        return datetime.datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith("Z") else v)
    except ValueError:
        raise _decoding(ValueMismatch(f"{v!r} is not an ISO {kind}")) from None


def _leaf(t: Any) -> tuple[Conv, Conv] | None:
    """Converters for the non-container types, or None."""
    if t is int:
        return _int, _int
    if t is float:
        return _float, _float
    if t is str:
        return _check(str, "str"), _check(str, "str")
    if t is bool:
        return _check(bool, "bool"), _check(bool, "bool")
    if t is bytes:
        return _check(bytes, "bytes"), _check(bytes, "bytes")
    if t is _typing.NoneType or t is None:
        return _none, _none
    if t is typing.Any or t is object:
        return _identity, _identity
    if t is datetime.datetime:

        def dt_to(v: Any) -> Any:
            if not isinstance(v, datetime.datetime):
                raise expected("datetime", v)
            return v.isoformat()

        return dt_to, lambda v: _parse_iso(v, "datetime")
    if t is datetime.date:

        def date_to(v: Any) -> Any:
            if not isinstance(v, datetime.date) or isinstance(v, datetime.datetime):
                raise expected("date", v)
            return v.isoformat()

        return date_to, lambda v: _parse_iso(v, "date").date()
    if t is datetime.timedelta:

        def td_to(v: Any) -> Any:
            if not isinstance(v, datetime.timedelta):
                raise expected("timedelta", v)
            return v.total_seconds()

        def td_from(v: Any) -> Any:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise _decoding(expected("seconds", v))
            return datetime.timedelta(seconds=v)

        return td_to, td_from
    return None


def _enum(cls: type[enum.Enum]) -> tuple[Conv, Conv]:
    def to(v: Any) -> Any:
        if not isinstance(v, cls):
            raise expected(cls.__name__, v)
        return v.value

    def from_(v: Any) -> Any:
        try:
            return cls(v)
        except ValueError:
            raise _decoding(ValueMismatch(f"{v!r} is not a value of {cls.__name__}")) from None

    return to, from_


def _literal(t: Any) -> tuple[Conv, Conv]:
    allowed = typing.get_args(t)

    def conv(v: Any) -> Any:
        if v in allowed:
            return v
        raise ValueMismatch(f"expected one of {list(allowed)}, got {v!r}")

    def from_(v: Any) -> Any:
        try:
            return conv(v)
        except ValueMismatch as e:
            raise _decoding(e) from None

    return conv, from_


def _union(t: Any) -> tuple[Conv, Conv]:
    args = typing.get_args(t)
    pairs = [(a, *converters(a)) for a in args]
    exact = {a: (to, fr) for a, to, fr in pairs if isinstance(a, type)}

    def pick(v: Any, index: int) -> Any:
        hit = exact.get(type(v))
        if hit is not None:
            return hit[index](v)
        for _, *convs in pairs:
            try:
                return convs[index](v)
            except ValueMismatch:
                continue
        names = " | ".join(_typing.type_name(a) for a in args)
        err = ValueMismatch(f"expected {names}, got {type(v).__name__}")
        raise _decoding(err) if index else err

    return (lambda v: pick(v, 0)), (lambda v: pick(v, 1))


def _list(elem: Any, out: type) -> tuple[Conv, Conv]:
    to_e, from_e = converters(elem)

    def to(v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            raise expected("list", v)
        if to_e is _identity:
            return list(v)
        try:
            return [to_e(x) for x in v]
        except ValueMismatch:
            pass
        for i, x in enumerate(v):  # find the element at fault (only on the error path)
            try:
                to_e(x)
            except ValueMismatch as e:
                raise e.at(f"[{i}]") from None
        raise AssertionError("unreachable")

    def from_(v: Any) -> Any:
        if not isinstance(v, list):
            raise _decoding(expected("list", v))
        try:
            return out(from_e(x) for x in v)
        except ValueMismatch:
            pass
        for i, x in enumerate(v):
            try:
                from_e(x)
            except ValueMismatch as e:
                raise e.at(f"[{i}]") from None
        raise AssertionError("unreachable")

    return to, from_


def _dict(key: Any, val: Any) -> tuple[Conv, Conv]:
    to_k, from_k = converters(key)
    to_v, from_v = converters(val)

    def make(kc: Conv, vc: Conv, decoding: bool) -> Conv:
        def conv(v: Any) -> Any:
            if not isinstance(v, dict):
                err = expected("dict", v)
                raise _decoding(err) if decoding else err
            out = {}
            for k, x in v.items():
                try:
                    out[kc(k)] = vc(x)
                except ValueMismatch as e:
                    raise e.at(key_segment(k)) from None
            return out

        return conv

    return make(to_k, to_v, False), make(from_k, from_v, True)


def _fixed_tuple(args: tuple[Any, ...]) -> tuple[Conv, Conv]:
    convs = [converters(a) for a in args]

    def to(v: Any) -> Any:
        if not isinstance(v, (tuple, list)) or len(v) != len(convs):
            raise ValueMismatch(f"expected a tuple of {len(convs)}, got {type(v).__name__}")
        out = []
        for i, (c, x) in enumerate(zip(convs, v, strict=True)):
            try:
                out.append(c[0](x))
            except ValueMismatch as e:
                raise e.at(f"[{i}]") from None
        return out

    def from_(v: Any) -> Any:
        if not isinstance(v, list) or len(v) != len(convs):
            raise _decoding(ValueMismatch(f"expected a list of {len(convs)}, got {type(v).__name__}"))
        out = []
        for i, (c, x) in enumerate(zip(convs, v, strict=True)):
            try:
                out.append(c[1](x))
            except ValueMismatch as e:
                raise e.at(f"[{i}]") from None
        return tuple(out)

    return to, from_


def fields_converters(
    names_types: list[tuple[str, Any]],
) -> list[tuple[str, Conv, Conv]]:
    return [(name, *converters(t)) for name, t in names_types]


def _dataclass(cls: type) -> tuple[Conv, Conv]:
    hints = _typing.resolved_hints(cls)
    fields = list(dataclasses.fields(cls))
    plan = fields_converters([(f.name, hints.get(f.name, Any)) for f in fields])
    init_names = {f.name for f in fields if f.init}
    required = {
        f.name
        for f in fields
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }

    def to(v: Any) -> Any:
        if not isinstance(v, cls):
            raise expected(cls.__name__, v)
        out = {}
        for name, conv, _ in plan:
            try:
                out[name] = conv(getattr(v, name))
            except ValueMismatch as e:
                raise e.at(f".{name}") from None
        return out

    def from_(v: Any) -> Any:
        if not isinstance(v, dict):
            raise _decoding(expected(f"a map for {cls.__name__}", v))
        kwargs = {}
        for name, _, conv in plan:
            if name in v:
                if name in init_names:
                    try:
                        kwargs[name] = conv(v[name])
                    except ValueMismatch as e:
                        raise e.at(f".{name}") from None
            elif name in required:
                raise _decoding(ValueMismatch(f"missing field {name!r} of {cls.__name__}"))
        return cls(**kwargs)

    return to, from_


def _named_tuple(cls: Any) -> tuple[Conv, Conv]:
    hints = _typing.resolved_hints(cls)
    to_t, from_t = _fixed_tuple(tuple(hints[f] for f in cls._fields))
    return to_t, lambda v: cls(*from_t(v))


def _typed_dict(cls: Any) -> tuple[Conv, Conv]:
    hints = _typing.resolved_hints(cls)
    plan = fields_converters(list(hints.items()))
    required = getattr(cls, "__required_keys__", frozenset(hints))

    def make(index: int, decoding: bool) -> Conv:
        def conv(v: Any) -> Any:
            if not isinstance(v, dict):
                err = expected(f"a dict for {cls.__name__}", v)
                raise _decoding(err) if decoding else err
            out = {}
            for name, *convs in plan:
                if name in v:
                    try:
                        out[name] = convs[index](v[name])
                    except ValueMismatch as e:
                        raise e.at(key_segment(name)) from None
                elif name in required:
                    err = ValueMismatch(f"missing key {name!r} of {cls.__name__}")
                    raise _decoding(err) if decoding else err
            return out

        return conv

    return make(0, False), make(1, True)


def _pydantic(cls: Any) -> tuple[Conv, Conv]:
    def to(v: Any) -> Any:
        if not isinstance(v, cls):
            raise expected(cls.__name__, v)
        return v.model_dump(mode="json")

    def from_(v: Any) -> Any:
        import pydantic

        try:
            return cls.model_validate(v)
        except pydantic.ValidationError as e:
            raise _decoding(ValueMismatch(f"not a valid {cls.__name__}: {e}")) from None

    return to, from_


@functools.cache
def _converters_cached(t: Any) -> tuple[Conv, Conv]:
    return _build(t)


def converters(t: Any) -> tuple[Conv, Conv]:
    """``(to_builtin, from_builtin)`` for annotation ``t``.

    Raises:
        TypeTransformerFailedError: ``t`` cannot be carried inside msgpack data.
    """
    try:
        return _converters_cached(t)
    except TypeError:  # unhashable annotation
        return _build(t)


def _build(t: Any) -> tuple[Conv, Conv]:
    t, _ = _typing.strip_annotated(t)
    leaf = _leaf(t)
    if leaf is not None:
        return leaf
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return _enum(t)
    if _typing.is_literal(t):
        return _literal(t)
    if _typing.is_union(t):
        return _union(t)
    if _typing.is_named_tuple(t):
        return _named_tuple(t)
    if _typing.is_typed_dict(t):
        return _typed_dict(t)
    if _typing.is_typed_tuple(t):
        return _fixed_tuple(typing.get_args(t))
    if _typing.is_pydantic_model(t):
        return _pydantic(t)
    if _typing.dataclass_class(t) is not None:
        return _dataclass(typing.cast(type, _typing.dataclass_class(t)))
    origin = typing.get_origin(t) or t
    args = typing.get_args(t)
    if origin in (list, typing.List, set, frozenset) or (origin in (tuple,) and args[1:] == (Ellipsis,)):  # noqa: UP006
        out: type = list if origin in (list, typing.List) else origin  # noqa: UP006
        return _list(args[0] if args else Any, out)
    if origin is dict:
        return _dict(*(args or (Any, Any)))
    if origin in (list, tuple):
        return _identity, _identity
    raise TypeTransformerFailedError(
        f"{_typing.type_name(t)} cannot be carried inside a dataclass, tuple or TypedDict by flyte.types yet"
    )
