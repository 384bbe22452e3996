"""`TypeEngine`: finds the transformer for a Python type and converts values and literals."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from flyteidl2.core import literals_pb2, types_pb2

from flyte.errors import RestrictedTypeError
from flyte.types import _plugins, _typing
from flyte.types._codec import Codec
from flyte.types._collections import DictTransformer, ListTransformer
from flyte.types._enums import EnumTransformer, literal_is_enum
from flyte.types._errors import TypeTransformerFailedError, ValueMismatch, to_public
from flyte.types._pickle import PickleTransformer
from flyte.types._primitives import GUESSES, primitive_transformers
from flyte.types._structured import DataclassTransformer, NamedTupleTransformer, TupleTransformer, TypedDictTransformer
from flyte.types._transformer import BuiltinTransformer, TypeTransformer
from flyte.types._union import UnionTransformer

logger = logging.getLogger("flyte.types")


class _TransformerCodec(Codec):
    """Drives a third-party transformer (no compiled codec) through its async methods."""

    is_async = True

    def __init__(self, transformer: TypeTransformer[Any], python_type: Any):
        super().__init__(python_type, transformer.get_literal_type(python_type))
        self.transformer = transformer
        self.name = transformer.name
        origin = typing.get_origin(python_type) or python_type
        self._check = origin if isinstance(origin, type) else None

    def matches(self, value: Any) -> bool:
        return self._check is not None and isinstance(value, self._check)

    def encode(self, value: Any) -> bytes:
        raise RuntimeError(f"transformer {self.name!r} is async; use the async API")  # guarded by is_async

    def decode(self, lit: literals_pb2.Literal) -> Any:
        raise RuntimeError(f"transformer {self.name!r} is async; use the async API")

    async def encode_async(self, value: Any) -> bytes:
        try:
            if self.transformer.type_assertions_enabled:
                self.transformer.assert_type(self.python_type, value)
            lit = await self.transformer.to_literal(value, self.python_type, self.literal_type)
        except ValueMismatch:
            raise
        except Exception as e:  # third-party code: report its failure at the value's path
            raise ValueMismatch(f"{self.name}: {e}") from e
        return lit.SerializeToString()

    async def decode_async(self, lit: literals_pb2.Literal) -> Any:
        try:
            return await self.transformer.to_python_value(lit, self.python_type)
        except ValueMismatch:
            raise
        except Exception as e:  # third-party code
            raise ValueMismatch(f"{self.name}: {e}", decoding=True) from e


class _RestrictedTransformer(TypeTransformer[Any]):
    def __init__(self, name: str, t: Any):
        super().__init__(name, t)

    def get_literal_type(self, t: Any) -> types_pb2.LiteralType:
        raise RestrictedTypeError(f"values of type {_typing.type_name(t)} ({self.name}) cannot be sent between tasks")


class TypeEngine:
    """Converts Python values to flyteidl2 literals and back, by declared Python type.

    Conversions are async (a transformer may do I/O); ``*_sync`` helpers wrap them for code
    that is not running an event loop. Types are resolved once and cached.

    Example:
        >>> lt = TypeEngine.to_literal_type(list[int])
        >>> lit = TypeEngine.to_literal_sync([1, 2, 3], list[int], lt)
        >>> TypeEngine.to_python_value_sync(lit, list[int])
        [1, 2, 3]
    """

    _REGISTRY: ClassVar[dict[Any, TypeTransformer[Any]]] = {}
    _CODECS: ClassVar[dict[Any, Codec]] = {}
    _lock: ClassVar[threading.RLock] = threading.RLock()

    _LIST = ListTransformer()
    _DICT = DictTransformer()
    _UNION = UnionTransformer()
    _ENUM = EnumTransformer()
    _TUPLE = TupleTransformer()
    _NAMED_TUPLE = NamedTupleTransformer()
    _TYPED_DICT = TypedDictTransformer()
    _DATACLASS = DataclassTransformer()
    _PICKLE = PickleTransformer()
    _warned_pickle: ClassVar[set[str]] = set()
    # module prefix -> loader that registers the transformers of that module's types
    _LAZY: ClassVar[dict[str, Callable[[], None]]] = {}

    # --- registry ---------------------------------------------------------------------------

    @classmethod
    def register(cls, transformer: TypeTransformer[Any], additional_types: list[Any] | None = None) -> None:
        """Use ``transformer`` for its ``python_type`` (and ``additional_types``) and subclasses.

        Raises:
            ValueError: another transformer already handles one of those types.
        """
        with cls._lock:
            for t in [transformer.python_type, *(additional_types or [])]:
                existing = cls._REGISTRY.get(t)
                if existing is not None and existing is not transformer:
                    raise ValueError(
                        f"transformer {existing.name!r} already handles {_typing.type_name(t)}; "
                        f"cannot register {transformer.name!r} for it too"
                    )
                cls._REGISTRY[t] = transformer
            cls._CODECS.clear()

    @classmethod
    def register_lazy(cls, module: str, loader: Callable[[], None]) -> None:
        """Call ``loader`` once, the first time a type defined in ``module`` (or below it) is looked up.

        How transformers for types of optional packages (pandas, pyarrow) are registered
        without importing those packages before a user does.
        """
        with cls._lock:
            cls._LAZY[module] = loader

    @classmethod
    def load_lazy_registrations(cls, t: Any) -> None:
        """Run the lazy loaders that ``t`` (or a base class of it) calls for."""
        if not cls._LAZY:
            return
        target = typing.get_origin(t) or t
        for klass in getattr(target, "__mro__", (target,)):
            module = getattr(klass, "__module__", None)
            if not isinstance(module, str):
                continue
            for prefix in list(cls._LAZY):
                if module == prefix or module.startswith(prefix + "."):
                    cls._run_lazy(prefix)

    @classmethod
    def _run_lazy(cls, prefix: str) -> None:
        with cls._lock:
            loader = cls._LAZY.pop(prefix, None)
        if loader is not None:
            loader()

    @classmethod
    def register_restricted_type(cls, name: str, t: Any) -> None:
        """Refuse values of ``t`` (e.g. a live client object) with a :class:`RestrictedTypeError`."""
        cls.register(_RestrictedTransformer(name, t))

    @classmethod
    def get_transformer(cls, python_type: Any) -> TypeTransformer[Any]:
        """The transformer that handles ``python_type`` (the pickle fallback if none does)."""
        _plugins.load_type_plugins()
        t, metadata = _typing.strip_annotated(python_type)
        for m in metadata:
            if isinstance(m, TypeTransformer):
                return m
        found = cls._lookup(t)
        if found is not None:
            return found
        name = _typing.type_name(t)
        if name not in cls._warned_pickle:
            cls._warned_pickle.add(name)
            logger.warning(
                "flyte.types: %s is not a supported type; its values will be pickled, which only works "
                "between identical Python environments",
                name,
            )
        return cls._PICKLE

    @classmethod
    def _registered(cls, t: Any) -> TypeTransformer[Any] | None:
        try:
            return cls._REGISTRY.get(t)
        except TypeError:  # unhashable annotation
            return None

    @classmethod
    def _lookup(cls, t: Any) -> TypeTransformer[Any] | None:
        cls.load_lazy_registrations(t)
        hit = cls._registered(t)
        if hit is not None:
            return hit
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return cls._ENUM
        if _typing.is_literal(t):
            return cls._ENUM if literal_is_enum(t) else None
        if _typing.is_named_tuple(t):
            return cls._NAMED_TUPLE
        if _typing.is_typed_dict(t):
            return cls._TYPED_DICT
        if _typing.is_typed_tuple(t):
            return cls._TUPLE
        if _typing.is_union(t):
            return cls._UNION
        origin = typing.get_origin(t)
        if origin is not None:
            hit = cls._registered(origin)
            if hit is not None:
                return hit
            if origin is list and typing.get_args(t):
                return cls._LIST
        if t is dict or origin is dict:
            return cls._DICT
        if isinstance(t, type):
            for base in t.__mro__[1:]:
                hit = cls._registered(base)
                if hit is not None and base is not object:
                    return hit
            if _typing.is_pydantic_model(t):
                return cls._pydantic()
            if _typing.is_protobuf_message(t):
                return cls._protobuf()
        if _typing.dataclass_class(t) is not None:
            return cls._DATACLASS
        return None

    @classmethod
    def _pydantic(cls) -> TypeTransformer[Any]:
        from flyte.types._pydantic import PydanticTransformer

        return cls._builtin_singleton("pydantic", PydanticTransformer)

    @classmethod
    def _protobuf(cls) -> TypeTransformer[Any]:
        from flyte.types._protobuf import ProtobufTransformer

        return cls._builtin_singleton("protobuf", ProtobufTransformer)

    _singletons: ClassVar[dict[str, TypeTransformer[Any]]] = {}

    @classmethod
    def _builtin_singleton(cls, key: str, factory: Callable[[], TypeTransformer[Any]]) -> TypeTransformer[Any]:
        found = cls._singletons.get(key)
        if found is None:
            found = cls._singletons[key] = factory()
        return found

    @classmethod
    def codec(cls, python_type: Any) -> Codec:
        """The compiled codec for ``python_type`` (cached)."""
        try:
            cached = cls._CODECS.get(python_type)
        except TypeError:
            cached = None
        if cached is not None:
            return cached
        transformer = cls.get_transformer(python_type)
        t, _ = _typing.strip_annotated(python_type)
        if transformer.accepts_annotated:
            t = python_type
        built = transformer.codec(t)
        codec = built if built is not None else _TransformerCodec(transformer, t)
        with contextlib.suppress(TypeError):  # unhashable annotations are rebuilt each time
            cls._CODECS[python_type] = codec
        return codec

    # --- conversions ------------------------------------------------------------------------

    @classmethod
    def to_literal_type(cls, python_type: Any) -> types_pb2.LiteralType:
        """The literal type values of ``python_type`` are written as."""
        try:
            return cls.codec(python_type).literal_type
        except ValueMismatch as e:
            raise to_public(e, "", _typing.type_name(python_type)) from None

    @classmethod
    async def to_literal(
        cls, python_val: Any, python_type: Any, expected: types_pb2.LiteralType | None = None
    ) -> literals_pb2.Literal:
        """Convert ``python_val``, declared as ``python_type``, to a literal.

        Args:
            python_val: the value.
            python_type: its declared type (the annotation).
            expected: the literal type it must have; ``to_literal_type(python_type)`` when omitted.

        Raises:
            TypeTransformerFailedError: the value does not fit; the message names the path inside
                the value and the declared type.
        """
        return await cls._to_literal(python_val, python_type, "")

    @classmethod
    async def _to_literal(cls, value: Any, python_type: Any, root: str) -> literals_pb2.Literal:
        codec = cls.codec(python_type)
        try:
            data = await codec.encode_async(value) if codec.is_async else codec.encode(value)
        except ValueMismatch as e:
            raise to_public(e, root, _typing.type_name(python_type)) from None
        return literals_pb2.Literal.FromString(data)

    @classmethod
    async def to_python_value(cls, lv: literals_pb2.Literal, expected_python_type: Any) -> Any:
        """Convert literal ``lv`` to a value of ``expected_python_type``.

        Raises:
            LiteralMismatchError: ``lv`` is corrupt or does not hold a ``expected_python_type``.
        """
        return await cls._to_python(lv, expected_python_type, "")

    @classmethod
    async def _to_python(cls, lv: literals_pb2.Literal, python_type: Any, root: str) -> Any:
        if not isinstance(lv, literals_pb2.Literal):
            raise TypeTransformerFailedError(f"expected a flyteidl2 Literal, got {type(lv).__name__}")
        codec = cls.codec(python_type)
        try:
            return await codec.decode_async(lv) if codec.is_async else codec.decode(lv)
        except ValueMismatch as e:
            e.decoding = True
            raise to_public(e, root, _typing.type_name(python_type)) from None
        except (AttributeError, KeyError, IndexError, ValueError, TypeError) as e:
            # A literal whose shape no check above anticipated: say so, never leak a KeyError.
            if isinstance(e, TypeTransformerFailedError):
                raise
            err = ValueMismatch(f"corrupt or mismatched literal ({type(e).__name__}: {e})", decoding=True)
            raise to_public(err, root, _typing.type_name(python_type)) from e

    @classmethod
    def to_literal_sync(
        cls, python_val: Any, python_type: Any, expected: types_pb2.LiteralType | None = None
    ) -> literals_pb2.Literal:
        """:meth:`to_literal` for synchronous code.

        Built-in types convert directly; an async transformer needs an event loop, and calling
        this from a running loop then raises instead of blocking it.
        """
        codec = cls.codec(python_type)
        if not codec.is_async:
            try:
                return literals_pb2.Literal.FromString(codec.encode(python_val))
            except ValueMismatch as e:
                raise to_public(e, "", _typing.type_name(python_type)) from None
        return typing.cast(literals_pb2.Literal, _run(cls.to_literal(python_val, python_type, expected)))

    @classmethod
    def to_python_value_sync(cls, lv: literals_pb2.Literal, expected_python_type: Any) -> Any:
        """:meth:`to_python_value` for synchronous code (see :meth:`to_literal_sync`)."""
        if not cls.codec(expected_python_type).is_async:
            coro = cls._to_python(lv, expected_python_type, "")
            try:
                coro.send(None)  # a sync codec finishes without ever suspending
            except StopIteration as done:
                return done.value
            coro.close()
        return _run(cls.to_python_value(lv, expected_python_type))

    @classmethod
    async def dict_to_literal_map(
        cls, values: Mapping[str, Any], types: Mapping[str, Any], task_name: str = ""
    ) -> literals_pb2.LiteralMap:
        """Convert named values (task inputs or outputs); errors name the variable.

        Raises:
            flyte.errors.RuntimeDataValidationError: a value does not fit its declared type.
        """
        from flyte.errors import RuntimeDataValidationError

        out = literals_pb2.LiteralMap()
        for name, value in values.items():
            if name not in types:
                raise RuntimeDataValidationError(name, f"no such variable; known: {sorted(types)}", task_name)
            try:
                lit = await cls._to_literal(value, types[name], name)
            except TypeTransformerFailedError as e:
                raise RuntimeDataValidationError(name, e, task_name) from e
            out.literals[name].CopyFrom(lit)
        return out

    @classmethod
    async def literal_map_to_kwargs(
        cls, lm: literals_pb2.LiteralMap, types: Mapping[str, Any], task_name: str = ""
    ) -> dict[str, Any]:
        """Convert named literals back to values by declared type; errors name the variable."""
        from flyte.errors import RuntimeDataValidationError

        out = {}
        for name, t in types.items():
            if name not in lm.literals:
                continue
            try:
                out[name] = await cls._to_python(lm.literals[name], t, name)
            except TypeTransformerFailedError as e:
                raise RuntimeDataValidationError(name, e, task_name) from e
        return out

    # --- reverse ----------------------------------------------------------------------------

    @classmethod
    def guess_python_type(cls, literal_type: types_pb2.LiteralType) -> Any:
        """A Python type whose values have ``literal_type`` (used when only the type is known).

        Raises:
            ValueError: no transformer recognizes ``literal_type``.
        """
        _plugins.load_type_plugins()
        if literal_type.WhichOneof("type") in ("blob", "structured_dataset_type"):
            cls._run_lazy("flyte.io")
        for transformer in list(cls._REGISTRY.values()):
            if isinstance(transformer, BuiltinTransformer):
                continue
            try:
                return transformer.guess_python_type(literal_type)
            except (ValueError, NotImplementedError):
                continue
        kind = literal_type.WhichOneof("type")
        if kind == "simple":
            if literal_type.simple in GUESSES:
                return GUESSES[literal_type.simple]
            return cls._guess_struct(literal_type)
        candidates: list[TypeTransformer[Any]] = [cls._PICKLE, cls._LIST, cls._DICT, cls._ENUM, cls._UNION]
        for transformer in candidates:
            try:
                return transformer.guess_python_type(literal_type)
            except ValueError:
                continue
        raise ValueError(f"no transformer can reverse the literal type {literal_type}")

    @classmethod
    def guess_python_types(cls, variables: Any) -> dict[str, Any]:
        """:meth:`guess_python_type` for every variable of a flyteidl2 ``VariableMap`` (or its entries)."""
        entries = variables.variables if hasattr(variables, "variables") else variables
        return {e.key: cls.guess_python_type(e.value.type) for e in entries}

    @classmethod
    def _guess_struct(cls, lt: types_pb2.LiteralType) -> Any:
        if lt.simple == types_pb2.SimpleType.BINARY:
            return cls._PICKLE.guess_python_type(lt)
        tag = lt.structure.tag
        if tag == cls._DATACLASS.name:
            return cls._DATACLASS.guess_python_type(lt)
        if tag == "Pydantic Transformer":
            return cls._pydantic().guess_python_type(lt)
        if "pb_type" in lt.metadata.fields:
            raise ValueError(f"cannot guess the protobuf class {lt.metadata['pb_type']!r} from a literal type")
        return cls._DICT.guess_python_type(lt)


def _run(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError(
        "a TypeEngine *_sync helper was called from a running event loop; await the async method instead"
    )


for _t in primitive_transformers():
    TypeEngine.register(_t)


def _register_io() -> None:
    from flyte.io._register import register_io

    register_io()


def _register_pandas() -> None:
    from flyte.io._register import register_pandas

    register_pandas()


def _register_arrow() -> None:
    from flyte.io._register import register_arrow

    register_arrow()


TypeEngine.register_lazy("flyte.io", _register_io)
TypeEngine.register_lazy("pandas", _register_pandas)
TypeEngine.register_lazy("pyarrow", _register_arrow)
