"""Large pickles are uploaded under the raw data path; the literal refers to the blob."""

from __future__ import annotations

import asyncio
import hashlib
import os

import cloudpickle
import pytest
from flyteidl2.core import literals_pb2

from flyte.io import use_raw_data_path
from flyte.types import LiteralMismatchError, TypeEngine, _pickle


class Payload:
    def __init__(self, data: bytes):
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Payload) and other.data == self.data


def test_a_pickle_over_the_inline_limit_is_uploaded_as_a_blob(tmp_path):
    value = Payload(os.urandom(20_000))

    async def go():
        with use_raw_data_path(str(tmp_path)):
            lit = await TypeEngine.to_literal(value, Payload)
        return lit, await TypeEngine.to_python_value(literals_pb2.Literal.FromString(lit.SerializeToString()), Payload)

    lit, back = asyncio.run(go())
    blob = lit.scalar.blob
    assert blob.metadata.type.format == "PythonPickle"
    assert blob.uri.startswith(str(tmp_path))
    with open(blob.uri, "rb") as fh:
        data = fh.read()
    assert os.path.basename(blob.uri) == hashlib.md5(data).hexdigest()
    assert cloudpickle.loads(data) == value
    assert back == value


def test_a_small_pickle_stays_inline(tmp_path):
    with use_raw_data_path(str(tmp_path)):
        lit = asyncio.run(TypeEngine.to_literal(Payload(b"x"), Payload))
    assert lit.scalar.binary.value
    assert not os.listdir(tmp_path)


def test_the_inline_limit_is_configurable(monkeypatch, tmp_path):
    monkeypatch.setattr(_pickle.PickleTransformer, "inline_max_bytes", 50)
    TypeEngine._CODECS.clear()
    try:
        with use_raw_data_path(str(tmp_path)):
            lit = asyncio.run(TypeEngine.to_literal(Payload(b"y" * 100), Payload))
        assert lit.scalar.WhichOneof("value") == "blob"
    finally:
        TypeEngine._CODECS.clear()


def test_large_pickles_inside_a_list(tmp_path):
    values = [Payload(os.urandom(15_000)), Payload(b"small")]
    with use_raw_data_path(str(tmp_path)):
        lit = TypeEngine.to_literal_sync(values, list[Payload])
    kinds = [x.scalar.WhichOneof("value") for x in lit.collection.literals]
    assert kinds == ["blob", "binary"]
    assert TypeEngine.to_python_value_sync(lit, list[Payload]) == values


def test_a_missing_pickle_blob_is_a_clear_error(tmp_path):
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri=str(tmp_path / "gone"))))
    with pytest.raises(LiteralMismatchError, match=r"reading the pickle at .*gone"):
        TypeEngine.to_python_value_sync(lit, Payload)
