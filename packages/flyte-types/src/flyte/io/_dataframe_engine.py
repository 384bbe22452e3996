"""`DataFrameTransformerEngine`: the DataFrame transformer and its handler registry.

Handlers are keyed by ``(python type, protocol, format)``. Lookup tries the URI's protocol, then
handlers registered for any protocol; within one, the exact format, then (for an unspecified
format) the type's default format, then a handler for any format.

Literal type: ``structured_dataset_type`` (columns and format from ``Annotated`` metadata, as
flyte 2.12.1 writes them), tagged with the frame class's qualified name for raw frame types
(``pandas.DataFrame``), untagged for ``flyte.io.DataFrame``. Literal:
``scalar.structured_dataset {uri, metadata.structured_dataset_type}``.
"""

from __future__ import annotations

import collections
import datetime
import threading
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from flyteidl2.core import literals_pb2, types_pb2

from flyte.io._dataframe import (
    GENERIC_FORMAT,
    GENERIC_PROTOCOL,
    DataFrame,
    DataFrameDecoder,
    DataFrameEncoder,
)
from flyte.io._file import upload_if_local
from flyte.io._raw_data import raw_data_path
from flyte.types import _typing
from flyte.types._codec import kind_of
from flyte.types._errors import ValueMismatch
from flyte.types._transformer import TypeTransformer

Handler = DataFrameEncoder[Any] | DataFrameDecoder[Any]
_Table = dict[type, dict[str, dict[str, Any]]]

_SIMPLE = types_pb2.SimpleType
_COLUMN_TYPES: dict[Any, int] = {
    int: _SIMPLE.INTEGER,
    float: _SIMPLE.FLOAT,
    bool: _SIMPLE.BOOLEAN,
    str: _SIMPLE.STRING,
    datetime.datetime: _SIMPLE.DATETIME,
    datetime.timedelta: _SIMPLE.DURATION,
}
# numpy scalar types by name, so that declaring columns does not need numpy imported here
_NUMPY_COLUMN_TYPES = {
    "int32": _SIMPLE.INTEGER,
    "int64": _SIMPLE.INTEGER,
    "uint32": _SIMPLE.INTEGER,
    "uint64": _SIMPLE.INTEGER,
    "float32": _SIMPLE.FLOAT,
    "float64": _SIMPLE.FLOAT,
    "bool_": _SIMPLE.BOOLEAN,
    "datetime64": _SIMPLE.DATETIME,
    "timedelta64": _SIMPLE.DURATION,
    "bytes_": _SIMPLE.STRING,
    "str_": _SIMPLE.STRING,
    "object_": _SIMPLE.STRING,
}


class DuplicateHandlerError(ValueError):
    """A handler is already registered for that (type, protocol, format)."""


def protocol_of(uri: str) -> str:
    """``s3`` for ``s3://b/k``; ``file`` for local paths and ``file://`` URIs."""
    if "://" in uri:
        return uri.split("://", 1)[0].lower()
    return "file"


class _Annotations(typing.NamedTuple):
    base: Any
    columns: collections.OrderedDict[str, Any] | None
    format: str
    arrow_schema: Any


def annotations_of(t: Any) -> _Annotations:
    """The frame type and its declared columns, format and arrow schema (``Annotated[...]``)."""
    base, metadata = _typing.strip_annotated(t)
    columns: collections.OrderedDict[str, Any] | None = None
    fmt = GENERIC_FORMAT
    schema = None
    for m in metadata:
        if isinstance(m, str):
            fmt = m
        elif isinstance(m, Mapping):
            columns = collections.OrderedDict(m)
        elif type(m).__module__.startswith("pyarrow") and type(m).__name__ == "Schema":
            schema = m
        elif hasattr(m, "__annotations__"):  # a class whose annotations list the columns
            columns = collections.OrderedDict(m.__annotations__)
    return _Annotations(base, columns, fmt, schema)


def _flatten(columns: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, t in columns.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(t, Mapping):
            out.update(_flatten(t, key))
        else:
            out[key] = t
    return out


def column_literal_type(t: Any) -> types_pb2.LiteralType:
    if t in _COLUMN_TYPES:
        return types_pb2.LiteralType(simple=_COLUMN_TYPES[t])  # type: ignore[arg-type]
    if getattr(t, "__module__", "") == "numpy" and getattr(t, "__name__", "") in _NUMPY_COLUMN_TYPES:
        return types_pb2.LiteralType(simple=_NUMPY_COLUMN_TYPES[t.__name__])
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is list and args:
        return types_pb2.LiteralType(collection_type=column_literal_type(args[0]))
    if origin is dict and len(args) == 2:
        return types_pb2.LiteralType(map_value_type=column_literal_type(args[1]))
    raise ValueMismatch(f"column type {_typing.type_name(t)} is not supported in a DataFrame")


def dataset_type(ann: _Annotations) -> types_pb2.StructuredDatasetType:
    columns = [
        types_pb2.StructuredDatasetType.DatasetColumn(name=name, literal_type=column_literal_type(t))
        for name, t in _flatten(ann.columns or {}).items()
    ]
    sdt = types_pb2.StructuredDatasetType(columns=columns, format=ann.format)
    if ann.arrow_schema is not None:
        sdt.external_schema_type = "arrow"
        sdt.external_schema_bytes = ann.arrow_schema.to_string().encode()
    return sdt


def _is_wrapper(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, DataFrame)


class DataFrameTransformerEngine(TypeTransformer[DataFrame]):
    """The transformer of ``flyte.io.DataFrame`` and of every registered frame type.

    Example (a plugin adding a frame type):
        >>> class PolarsWriter(DataFrameEncoder[pl.DataFrame]):  # doctest: +SKIP
        ...     def __init__(self):
        ...         super().__init__(pl.DataFrame, None, "parquet")
        ...     async def encode(self, dataframe, structured_dataset_type): ...
        >>> DataFrameTransformerEngine.register(PolarsWriter())  # doctest: +SKIP
    """

    accepts_annotated = True

    ENCODERS: ClassVar[_Table] = {}
    DECODERS: ClassVar[_Table] = {}
    DEFAULT_FORMATS: ClassVar[dict[type, str]] = {}
    DEFAULT_PROTOCOLS: ClassVar[dict[type, str]] = {}
    _lock: ClassVar[threading.RLock] = threading.RLock()
    _instance: ClassVar[DataFrameTransformerEngine | None] = None

    def __init__(self) -> None:
        super().__init__("DataFrame", DataFrame, enable_type_assertions=False)

    @classmethod
    def instance(cls) -> DataFrameTransformerEngine:
        """The one engine (registered with the TypeEngine on first use of a frame type)."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    # --- registry ------------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        h: Handler,
        default_for_type: bool = False,
        override: bool = False,
        default_format_for_type: bool = False,
        default_storage_for_type: bool = False,
    ) -> None:
        """Register an encoder or decoder under ``(h.python_type, h.protocol, h.supported_format)``.

        Args:
            h: the handler.
            default_for_type: make its format and protocol the type's defaults.
            override: replace a handler registered under the same key instead of raising.
            default_format_for_type: make its format the type's default format.
            default_storage_for_type: make its protocol the type's default protocol.

        Raises:
            DuplicateHandlerError: a handler is registered under that key and ``override`` is False.
        """
        if not isinstance(h, (DataFrameEncoder, DataFrameDecoder)):
            raise TypeError(f"expected a DataFrameEncoder or DataFrameDecoder, got {type(h).__name__}")
        table = cls.ENCODERS if isinstance(h, DataFrameEncoder) else cls.DECODERS
        protocol = h.protocol or GENERIC_PROTOCOL
        with cls._lock:
            by_format = table.setdefault(h.python_type, {}).setdefault(protocol, {})
            if h.supported_format in by_format and not override:
                raise DuplicateHandlerError(
                    f"a {type(h).__bases__[0].__name__} is already registered for "
                    f"({_typing.type_name(h.python_type)}, {protocol!r}, {h.supported_format!r}); pass override=True"
                )
            by_format[h.supported_format] = h
            if (default_for_type or default_format_for_type) and h.supported_format:
                cls.DEFAULT_FORMATS.setdefault(h.python_type, h.supported_format)
                if override:
                    cls.DEFAULT_FORMATS[h.python_type] = h.supported_format
            if (default_for_type or default_storage_for_type) and h.protocol:
                cls.DEFAULT_PROTOCOLS[h.python_type] = h.protocol
        if not _is_wrapper(h.python_type):
            from flyte.types._engine import TypeEngine

            TypeEngine.register(cls.instance(), [h.python_type])

    @classmethod
    def get_encoder(cls, df_type: type, protocol: str, format: str) -> DataFrameEncoder[Any]:
        return typing.cast(DataFrameEncoder[Any], cls._find(cls.ENCODERS, "encoder", df_type, protocol, format))

    @classmethod
    def get_decoder(cls, df_type: type, protocol: str, format: str) -> DataFrameDecoder[Any]:
        return typing.cast(DataFrameDecoder[Any], cls._find(cls.DECODERS, "decoder", df_type, protocol, format))

    @classmethod
    def _find(cls, table: _Table, kind: str, df_type: type, protocol: str, fmt: str) -> Any:
        if df_type not in table:
            from flyte.types._engine import TypeEngine

            TypeEngine.load_lazy_registrations(df_type)  # pandas / pyarrow handlers load on first use
        by_protocol = table.get(df_type)
        if not by_protocol:
            raise ValueMismatch(
                f"no DataFrame {kind} is registered for {_typing.type_name(df_type)}; "
                "register one with flyte.io.DataFrameTransformerEngine.register (or install the plugin that does)"
            )
        for proto in (protocol, GENERIC_PROTOCOL):
            by_format = by_protocol.get(proto)
            if not by_format:
                continue
            if fmt in by_format:
                return by_format[fmt]
            if fmt == GENERIC_FORMAT:
                default = cls.DEFAULT_FORMATS.get(df_type)
                if default in by_format:
                    return by_format[default]
                if len(by_format) == 1:
                    return next(iter(by_format.values()))
            if GENERIC_FORMAT in by_format:
                return by_format[GENERIC_FORMAT]
        known = sorted((p, f) for p, fs in by_protocol.items() for f in fs)
        raise ValueMismatch(
            f"no DataFrame {kind} for {_typing.type_name(df_type)} with protocol {protocol!r} and format {fmt!r}; "
            f"registered (protocol, format): {known}"
        )

    # --- TypeTransformer -------------------------------------------------------------------------

    def get_literal_type(self, t: Any) -> types_pb2.LiteralType:
        ann = annotations_of(t)
        sdt = dataset_type(ann)
        if _is_wrapper(ann.base):
            return types_pb2.LiteralType(structured_dataset_type=sdt)
        tag = f"{ann.base.__module__}.{ann.base.__qualname__}"
        return types_pb2.LiteralType(structured_dataset_type=sdt, structure=types_pb2.TypeStructure(tag=tag))

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        if literal_type.HasField("structured_dataset_type"):
            return DataFrame
        raise ValueError(f"{self.name} cannot reverse {literal_type}")

    def assert_type(self, t: Any, v: Any) -> None:
        return

    async def to_literal(
        self, python_val: Any, python_type: Any, expected: types_pb2.LiteralType
    ) -> literals_pb2.Literal:
        sd, value_hash = await self._to_dataset(python_val, python_type, expected.structured_dataset_type)
        lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(structured_dataset=sd))
        if value_hash:
            lit.hash = value_hash
        return lit

    async def write(self, fdf: DataFrame, python_type: Any) -> literals_pb2.StructuredDataset:
        """Encode ``fdf`` now (``DataFrame.from_local``); it then refers to what was written."""
        sd, _ = await self._to_dataset(fdf, python_type, self.get_literal_type(python_type).structured_dataset_type)
        return sd

    async def _to_dataset(
        self, value: Any, python_type: Any, declared: types_pb2.StructuredDatasetType
    ) -> tuple[literals_pb2.StructuredDataset, str | None]:
        ann = annotations_of(python_type)
        sdt = types_pb2.StructuredDatasetType()
        sdt.CopyFrom(declared)
        if _is_wrapper(ann.base):
            if not isinstance(value, DataFrame):
                raise ValueMismatch(
                    f"expected a flyte.io.DataFrame, got {type(value).__name__}; "
                    "wrap a frame with DataFrame.from_df(...)"
                )
            if value.val is None:
                return await self._reference(value, sdt), value.hash
            if value.literal is not None:  # already written: pass the same data on
                return value.literal, value.hash
            sd = await self._encode(value, type(value.val), sdt)
            value._literal, value.uri, value.format = sd, sd.uri, sd.metadata.structured_dataset_type.format
            return sd, value.hash
        if not isinstance(value, ann.base):
            raise ValueMismatch(f"expected {_typing.type_name(ann.base)}, got {type(value).__name__}")
        if not sdt.format:
            sdt.format = self.DEFAULT_FORMATS.get(ann.base, GENERIC_FORMAT)
        return await self._encode(DataFrame.from_df(value), ann.base, sdt), None

    async def _reference(
        self, value: DataFrame, sdt: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        if value.literal is not None:
            return value.literal
        if not value.uri:
            raise ValueMismatch("a DataFrame needs a frame (DataFrame.from_df) or a uri")
        uri = await upload_if_local(value.uri, recursive=True)
        if not sdt.format:
            sdt.format = value.format
        return literals_pb2.StructuredDataset(
            uri=uri, metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=sdt)
        )

    async def _encode(
        self, value: DataFrame, df_type: type, sdt: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        protocol = self.DEFAULT_PROTOCOLS.get(df_type) or protocol_of(value.uri or raw_data_path())
        encoder = self.get_encoder(df_type, protocol, sdt.format)
        sd = await encoder.encode(value, sdt)
        if not sd.HasField("metadata"):
            sd.metadata.structured_dataset_type.CopyFrom(sdt)
        sd.metadata.structured_dataset_type.format = encoder.supported_format
        return sd

    async def to_python_value(self, lv: literals_pb2.Literal, expected_python_type: Any) -> Any:
        if lv.scalar.WhichOneof("value") != "structured_dataset":
            raise ValueMismatch(f"expected a structured dataset literal, got {kind_of(lv)}", decoding=True)
        sd = lv.scalar.structured_dataset
        ann = annotations_of(expected_python_type)
        incoming = sd.metadata.structured_dataset_type
        columns = dataset_type(ann).columns if ann.columns else incoming.columns
        metadata = literals_pb2.StructuredDatasetMetadata(
            structured_dataset_type=types_pb2.StructuredDatasetType(
                columns=columns,
                format=incoming.format,
                external_schema_type=incoming.external_schema_type,
                external_schema_bytes=incoming.external_schema_bytes,
            )
        )
        if _is_wrapper(ann.base):
            cls = ann.base if isinstance(ann.base, type) else DataFrame
            fdf = cls(uri=sd.uri, format=incoming.format, hash=lv.hash or None)
            fdf._literal, fdf._metadata = sd, metadata
            return fdf
        decoder = self.get_decoder(ann.base, protocol_of(sd.uri), incoming.format)
        return await decoder.decode(sd, metadata)

    async def read(self, fdf: DataFrame, df_type: type) -> Any:
        """Decode the data ``fdf`` refers to as ``df_type`` (``DataFrame.open(t).all()``)."""
        sd = fdf.literal
        if sd is None:
            if not fdf.uri:
                raise ValueError("this DataFrame has neither a frame nor a uri to read")
            sd = literals_pb2.StructuredDataset(
                uri=fdf.uri,
                metadata=literals_pb2.StructuredDatasetMetadata(
                    structured_dataset_type=types_pb2.StructuredDatasetType(format=fdf.format)
                ),
            )
        metadata = fdf.metadata or sd.metadata
        try:
            decoder = self.get_decoder(df_type, protocol_of(sd.uri), sd.metadata.structured_dataset_type.format)
        except ValueMismatch as e:
            raise ValueError(e.detail) from None
        return await decoder.decode(sd, metadata)
