"""pydantic models: ``model_dump(mode="json")`` as msgpack, enums by member name.

flyte 2.12.1 writes enum fields of models by *name* (and describes them by name in the schema),
unlike dataclasses, which carry enum values. This module is imported only when a type is a
pydantic model, so ``import flyte.types`` never imports pydantic.
"""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Callable
from typing import Any

import pydantic
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from flyte.types import _typing
from flyte.types._binary import MsgpackCodec, struct_literal_type
from flyte.types._codec import Codec
from flyte.types._errors import ValueMismatch, expected
from flyte.types._transformer import BuiltinTransformer

NAME = "Pydantic Transformer"

Walker = Callable[[Any, bool], Any]


class _EnumsByName(GenerateJsonSchema):
    def enum_schema(self, schema: Any) -> JsonSchemaValue:
        cls = schema["cls"]
        return {"type": "string", "title": cls.__name__, "enum": [m.name for m in schema["members"]]}


def _enum_walker(cls: type[enum.Enum]) -> Walker:
    def walk(v: Any, to_names: bool) -> Any:
        try:
            return cls(v).name if to_names else cls[v].value
        except (ValueError, KeyError, TypeError):
            return v

    return walk


@functools.cache
def _walker(t: Any) -> Walker | None:
    """A function rewriting enum values <-> names inside the plain data of ``t``; None if no enums."""
    t, _ = _typing.strip_annotated(t)
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return _enum_walker(t)
    if _typing.is_pydantic_model(t):
        fields = {name: _walker(f.annotation) for name, f in t.model_fields.items()}
        active = {k: w for k, w in fields.items() if w is not None}
        if not active:
            return None

        def walk_model(v: Any, to_names: bool) -> Any:
            if not isinstance(v, dict):
                return v
            return {k: (active[k](x, to_names) if k in active and x is not None else x) for k, x in v.items()}

        return walk_model
    args = [a for a in typing.get_args(t) if a is not _typing.NoneType]
    walkers = [w for w in (_walker(a) for a in args) if w is not None]
    if not walkers:
        return None
    if _typing.is_union(t):
        first = walkers[0]
        return lambda v, to_names: None if v is None else first(v, to_names)
    origin = typing.get_origin(t)
    if origin in (list, set, frozenset, tuple):
        elem = walkers[0]
        return lambda v, to_names: [elem(x, to_names) for x in v] if isinstance(v, list) else v
    if origin is dict:
        val = _walker(typing.get_args(t)[1])
        if val is None:
            return None
        return lambda v, to_names: {k: val(x, to_names) for k, x in v.items()} if isinstance(v, dict) else v
    return None


class PydanticTransformer(BuiltinTransformer[Any]):
    def __init__(self) -> None:
        super().__init__(NAME, pydantic.BaseModel)

    def make_codec(self, python_type: Any) -> Codec:
        model = python_type
        walk = _walker(model)

        def to_builtin(value: Any) -> Any:
            if not isinstance(value, model):
                if not isinstance(value, dict):
                    raise expected(model.__name__, value)
                try:  # JSON-like inputs (API callers, CLIs) are accepted and validated
                    value = model.model_validate(value, strict=False)
                except pydantic.ValidationError as e:
                    raise ValueMismatch(f"not a valid {model.__name__}: {e}") from None
            data = value.model_dump(mode="json")
            return walk(data, True) if walk else data

        def from_builtin(data: Any) -> Any:
            if walk:
                data = walk(data, False)
            try:
                return model.model_validate(data, strict=False, context={"deserialize": True})
            except pydantic.ValidationError as e:
                raise ValueMismatch(f"not a valid {model.__name__}: {e}", decoding=True) from None

        schema = model.model_json_schema(schema_generator=_EnumsByName)
        lt = struct_literal_type(schema, self.name)
        return MsgpackCodec(model, lt, self.name, to_builtin, from_builtin, lambda v: type(v) is model)

    def guess_python_type(self, literal_type: Any) -> Any:
        from flyte.types._guess import pydantic_from_schema

        if literal_type.structure.tag == self.name and literal_type.HasField("metadata"):
            return pydantic_from_schema(literal_type.metadata)
        return super().guess_python_type(literal_type)
