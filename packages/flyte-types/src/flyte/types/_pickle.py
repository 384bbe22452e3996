"""The fallback for types the engine does not know: cloudpickle.

Small pickles go inline in ``scalar.binary``; larger ones (over ``inline_max_bytes``, 10 KiB by
default, env ``FLYTE_PICKLE_INLINE_MAX_BYTES``) are uploaded under the raw data path as
``<raw>/<random>/<md5 of the bytes>`` and the literal is a single blob of format
``PythonPickle`` referring to them, as flyte 2.12.1 writes it. (flyte 2.12.1 decides by
``sys.getsizeof`` of the value, which for most objects is not their size; we decide by the
pickled size. Either side reads both forms.) The storage goes through :class:`PickleOffload`
(``PickleTransformer.offload``), flyte.storage by default; with ``offload = None`` a pickle over
the limit is an error that says so, never a silently huge literal.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import _wire
from flyte.types._codec import Codec, kind_of
from flyte.types._errors import ValueMismatch
from flyte.types._transformer import BuiltinTransformer

NAME = "FlytePickle"
PICKLE_FORMAT = "PythonPickle"
_ENV_LIMIT = "FLYTE_PICKLE_INLINE_MAX_BYTES"


class FlytePickle:
    """Marker type for values carried as pickles; what ``guess_python_type`` returns for them."""


@dataclass(frozen=True)
class PickleOffload:
    """How large pickles are stored outside the literal (provided by the storage layer).

    Attributes:
        upload: writes the pickled bytes somewhere and returns their URI.
        download: reads the bytes at a URI.
    """

    upload: Callable[[bytes], Awaitable[str]]
    download: Callable[[str], Awaitable[bytes]]


async def _upload_to_storage(data: bytes) -> str:
    import flyte.storage as storage
    from flyte.io._raw_data import new_raw_data_uri

    return await storage.put_stream(data, to_path=new_raw_data_uri(hashlib.md5(data).hexdigest()))


async def _download_from_storage(uri: str) -> bytes:
    import flyte.storage as storage

    return b"".join([chunk async for chunk in storage.get_stream(uri)])


#: Large pickles through flyte.storage, under the raw data path (``flyte.io.use_raw_data_path``).
STORAGE_OFFLOAD = PickleOffload(_upload_to_storage, _download_from_storage)


def _literal_type(t: Any) -> types_pb2.LiteralType:
    blob = types_pb2.LiteralType(
        blob=types_pb2.BlobType(format=PICKLE_FORMAT, dimensionality=types_pb2.BlobType.BlobDimensionality.SINGLE),
        structure=types_pb2.TypeStructure(tag=NAME),
    )
    binary = types_pb2.LiteralType(simple=types_pb2.SimpleType.BINARY, structure=types_pb2.TypeStructure(tag=NAME))
    lt = types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=[blob, binary]))
    lt.metadata.update({"python_class_name": str(t)})
    return lt


def _content_hash(value: Any, pickled: bytes) -> str:
    """Sets pickle in hash-seed order; give them a stable hash so cache keys do not wobble."""
    import cloudpickle  # type: ignore[import-untyped]

    if isinstance(value, (set, frozenset)):
        try:
            return hashlib.md5(cloudpickle.dumps(sorted(value))).hexdigest()
        except TypeError:
            return ""
    return ""


class PickleCodec(Codec):
    name = NAME

    def __init__(self, python_type: Any, limit: int, offload: PickleOffload | None):
        super().__init__(python_type, _literal_type(python_type))
        self.limit = limit
        self.offload = offload
        self.is_async = offload is not None

    def matches(self, value: Any) -> bool:
        return isinstance(self.python_type, type) and isinstance(value, self.python_type)

    def _pickle(self, value: Any) -> bytes:
        import cloudpickle

        if value is None:
            raise ValueMismatch("None cannot be pickled as a value; declare the type Optional")
        try:
            return cloudpickle.dumps(value)  # type: ignore[no-any-return]
        except Exception as e:  # pickling can fail with anything the object's __reduce__ raises
            raise ValueMismatch(f"cannot be pickled: {e}") from None

    def _inline(self, value: Any, pickled: bytes) -> bytes:
        lit = _wire.binary_literal(pickled, "")
        digest = _content_hash(value, pickled)
        return lit + _wire.delimited(4, digest.encode()) if digest else lit

    def encode(self, value: Any) -> bytes:
        pickled = self._pickle(value)
        if len(pickled) > self.limit:
            raise ValueMismatch(
                f"the pickled value is {len(pickled)} bytes, over the inline limit of {self.limit} "
                f"(set {_ENV_LIMIT} or PickleTransformer.inline_max_bytes), and PickleTransformer.offload "
                "is None, so it cannot be uploaded"
            )
        return self._inline(value, pickled)

    async def encode_async(self, value: Any) -> bytes:
        pickled = self._pickle(value)
        if len(pickled) <= self.limit:
            return self._inline(value, pickled)
        if self.offload is None:
            return self.encode(value)  # raises, saying why
        try:
            uri = await self.offload.upload(pickled)
        except Exception as e:  # storage errors name the URI; keep them, at the value's path
            raise ValueMismatch(f"uploading the {len(pickled)}-byte pickle failed: {e}") from e
        blob = literals_pb2.Blob(
            uri=uri,
            metadata=literals_pb2.BlobMetadata(type=self.literal_type.union_type.variants[0].blob),
        )
        lit = _wire.scalar_literal(2, blob.SerializeToString())
        digest = _content_hash(value, pickled)
        return lit + _wire.delimited(4, digest.encode()) if digest else lit

    def decode(self, lit: literals_pb2.Literal) -> Any:
        import cloudpickle

        kind = lit.scalar.WhichOneof("value")
        if kind == "binary" and lit.scalar.binary.value:
            try:
                return cloudpickle.loads(lit.scalar.binary.value)
            except Exception as e:  # unpickling can raise anything
                raise ValueMismatch(f"corrupt pickle: {e}", decoding=True) from None
        if kind == "blob":
            raise ValueMismatch(
                "this pickle was uploaded as a blob and PickleTransformer.offload is None, so it cannot be read",
                decoding=True,
            )
        raise ValueMismatch(f"expected a pickled binary literal, got {kind_of(lit)}", decoding=True)

    async def decode_async(self, lit: literals_pb2.Literal) -> Any:
        import cloudpickle

        if lit.scalar.WhichOneof("value") == "blob" and self.offload is not None:
            uri = lit.scalar.blob.uri
            try:
                data = await self.offload.download(uri)
            except Exception as e:  # storage errors name the URI
                raise ValueMismatch(f"reading the pickle at {uri} failed: {e}", decoding=True) from e
            try:
                return cloudpickle.loads(data)
            except Exception as e:  # unpickling can raise anything
                raise ValueMismatch(f"corrupt pickle at {uri}: {e}", decoding=True) from None
        return self.decode(lit)


class PickleTransformer(BuiltinTransformer[Any]):
    """The fallback transformer. ``inline_max_bytes`` defaults to 10 KiB, like flyte 2.12.1."""

    inline_max_bytes: ClassVar[int] = int(os.environ.get(_ENV_LIMIT, 10 * 1024))
    offload: ClassVar[PickleOffload | None] = STORAGE_OFFLOAD

    def __init__(self) -> None:
        super().__init__(NAME, FlytePickle)

    def make_codec(self, python_type: Any) -> Codec:
        return PickleCodec(python_type, type(self).inline_max_bytes, type(self).offload)

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        variants = literal_type.union_type.variants
        if variants and all(v.structure.tag == NAME for v in variants):
            return FlytePickle
        if literal_type.simple == types_pb2.SimpleType.BINARY:
            return FlytePickle
        return super().guess_python_type(literal_type)
