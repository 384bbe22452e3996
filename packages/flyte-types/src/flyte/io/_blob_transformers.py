"""The transformers of `File` (single blob) and `Dir` (multipart blob), as flyte 2.12.1 writes them.

Literal type: ``blob {format: "", dimensionality}``, the format left empty whatever ``T`` is.
Literal: ``scalar.blob {metadata.type {format, dimensionality}, uri}`` with the value's
``format``, and the value's ``hash`` (if any) as the literal's ``hash``.
"""

from __future__ import annotations

import typing
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.io._dir import Dir
from flyte.io._file import File, base_name, upload_if_local
from flyte.types._codec import kind_of
from flyte.types._errors import ValueMismatch, expected
from flyte.types._transformer import TypeTransformer

_SINGLE = types_pb2.BlobType.BlobDimensionality.SINGLE
_MULTIPART = types_pb2.BlobType.BlobDimensionality.MULTIPART
_PICKLE_FORMAT = "PythonPickle"


def _value_class(python_type: Any, default: type) -> type:
    origin = typing.get_origin(python_type) or python_type
    return origin if isinstance(origin, type) and issubclass(origin, default) else default


class _BlobTransformer(TypeTransformer[Any]):
    dimensionality: int
    value_class: type[File[Any]] | type[Dir[Any]]
    kind: str

    def get_literal_type(self, t: Any) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(blob=types_pb2.BlobType(format="", dimensionality=self.dimensionality))  # type: ignore[arg-type]

    def assert_type(self, t: Any, v: Any) -> None:
        if not isinstance(v, self.value_class):
            raise expected(self.kind, v)

    async def to_literal(
        self, python_val: Any, python_type: Any, expected: types_pb2.LiteralType
    ) -> literals_pb2.Literal:
        self.assert_type(python_type, python_val)
        uri = await upload_if_local(python_val.path, recursive=self.dimensionality == _MULTIPART)
        blob_type = types_pb2.BlobType(format=python_val.format, dimensionality=self.dimensionality)  # type: ignore[arg-type]
        lit = literals_pb2.Literal(
            scalar=literals_pb2.Scalar(
                blob=literals_pb2.Blob(metadata=literals_pb2.BlobMetadata(type=blob_type), uri=uri)
            )
        )
        if python_val.hash:
            lit.hash = python_val.hash
        return lit

    async def to_python_value(self, lv: literals_pb2.Literal, expected_python_type: Any) -> Any:
        if lv.scalar.WhichOneof("value") != "blob":
            raise ValueMismatch(f"expected a blob literal, got {kind_of(lv)}", decoding=True)
        blob = lv.scalar.blob
        if blob.metadata.type.dimensionality != self.dimensionality:
            want = "single-part" if self.dimensionality == _SINGLE else "multipart"
            raise ValueMismatch(f"expected a {want} blob for {self.kind}, got another dimensionality", decoding=True)
        if not blob.uri:
            raise ValueMismatch("the blob literal has no uri", decoding=True)
        cls = _value_class(expected_python_type, self.value_class)
        return cls(path=blob.uri, name=base_name(blob.uri), format=blob.metadata.type.format, hash=lv.hash or None)

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        if (
            literal_type.HasField("blob")
            and literal_type.blob.dimensionality == self.dimensionality
            and literal_type.blob.format != _PICKLE_FORMAT
        ):
            return self.value_class
        raise ValueError(f"{self.name} cannot reverse {literal_type}")


class FileTransformer(_BlobTransformer):
    dimensionality = _SINGLE
    value_class = File
    kind = "File"

    def __init__(self) -> None:
        super().__init__("File", File)


class DirTransformer(_BlobTransformer):
    dimensionality = _MULTIPART
    value_class = Dir
    kind = "Dir"

    def __init__(self) -> None:
        super().__init__("Dir", Dir)
