"""flyte.io.DataFrame, pandas and pyarrow frames as structured datasets in parquet; the registry."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import typing

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flyteidl2.core import literals_pb2, types_pb2

from flyte.io import (
    DataFrame,
    DataFrameDecoder,
    DataFrameEncoder,
    DataFrameTransformerEngine,
    DuplicateHandlerError,
    use_raw_data_path,
)
from flyte.types import LiteralMismatchError, TypeEngine, TypeTransformerFailedError


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    with use_raw_data_path(str(folder)):
        yield folder


@pytest.fixture
def frame():
    return pd.DataFrame({"i": [1, 2, 3], "f": [0.5, 1.5, 2.5], "s": ["a", "b", "c"], "b": [True, False, True]})


def to_literal(value, t):
    return asyncio.run(TypeEngine.to_literal(value, t, TypeEngine.to_literal_type(t)))


def to_python(lit, t):
    return asyncio.run(TypeEngine.to_python_value(literals_pb2.Literal.FromString(lit.SerializeToString()), t))


def test_pandas_literal_type_is_a_structured_dataset_tagged_with_the_class():
    lt = TypeEngine.to_literal_type(pd.DataFrame)
    assert lt.HasField("structured_dataset_type")
    assert lt.structure.tag == f"{pd.DataFrame.__module__}.DataFrame"
    assert lt.structured_dataset_type == types_pb2.StructuredDatasetType()
    assert TypeEngine.to_literal_type(pa.Table).structure.tag == "pyarrow.lib.Table"
    assert not TypeEngine.to_literal_type(DataFrame).HasField("structure")


def test_a_pandas_frame_is_written_as_parquet_under_the_raw_data_path(raw, frame):
    lit = to_literal(frame, pd.DataFrame)
    sd = lit.scalar.structured_dataset
    assert sd.uri.startswith(str(raw))
    assert sd.metadata.structured_dataset_type.format == "parquet"
    assert pq.read_table(os.path.join(sd.uri, "00000")).to_pandas().equals(frame)
    assert to_python(lit, pd.DataFrame).equals(frame)


def test_an_arrow_table_round_trips(raw):
    table = pa.table({"x": [1, 2], "y": ["p", "q"]})
    lit = to_literal(table, pa.Table)
    assert lit.scalar.structured_dataset.metadata.structured_dataset_type.format == "parquet"
    assert to_python(lit, pa.Table).equals(table)
    assert to_python(lit, pd.DataFrame).equals(table.to_pandas())  # any registered reader


def test_flyte_dataframe_reads_lazily_as_the_type_asked_for(raw, frame):
    lit = to_literal(DataFrame.from_df(frame), DataFrame)
    back = to_python(lit, DataFrame)
    assert isinstance(back, DataFrame)
    assert back.val is None
    assert back.uri == lit.scalar.structured_dataset.uri
    assert back.format == "parquet"
    assert asyncio.run(back.open(pd.DataFrame).all()).equals(frame)
    assert back.open(pa.Table).all_sync().equals(pa.Table.from_pandas(frame))
    parts = asyncio.run(_collect(back.open(pd.DataFrame).iter()))
    assert len(parts) == 1
    assert parts[0].equals(frame)


async def _collect(it):
    return [x async for x in it]


def test_a_flyte_dataframe_read_from_a_literal_passes_on_the_same_data(raw, frame):
    lit = to_literal(DataFrame.from_df(frame), DataFrame)
    again = to_literal(to_python(lit, DataFrame), DataFrame)
    assert again.scalar.structured_dataset == lit.scalar.structured_dataset


def test_a_wrapped_frame_is_written_once(raw, frame):
    fdf = DataFrame.from_df(frame)
    first, second = to_literal(fdf, DataFrame), to_literal(fdf, DataFrame)
    assert first == second
    assert fdf.uri == first.scalar.structured_dataset.uri


def test_from_existing_remote_and_from_local(raw, frame, tmp_path):
    fdf = asyncio.run(DataFrame.from_local(frame, remote_destination=str(tmp_path / "mine")))
    assert fdf.uri == str(tmp_path / "mine")
    assert os.path.exists(tmp_path / "mine" / "00000")
    ref = DataFrame.from_existing_remote(str(tmp_path / "mine"), format="parquet")
    lit = to_literal(ref, DataFrame)
    assert lit.scalar.structured_dataset.uri == str(tmp_path / "mine")
    assert asyncio.run(ref.open(pd.DataFrame).all()).equals(frame)


def test_declared_columns_and_format_go_into_the_literal_type_and_subset_reads(raw, frame):
    t = typing.Annotated[DataFrame, {"i": int, "s": str}, "parquet"]
    lt = TypeEngine.to_literal_type(t)
    assert [(c.name, c.literal_type.simple) for c in lt.structured_dataset_type.columns] == [
        ("i", types_pb2.SimpleType.INTEGER),
        ("s", types_pb2.SimpleType.STRING),
    ]
    assert lt.structured_dataset_type.format == "parquet"
    lit = to_literal(DataFrame.from_df(frame), t)
    assert [c.name for c in lit.scalar.structured_dataset.metadata.structured_dataset_type.columns] == ["i", "s"]
    only_i = to_python(lit, typing.Annotated[pd.DataFrame, {"i": int}])
    assert list(only_i.columns) == ["i"]
    both = asyncio.run(to_python(lit, DataFrame).open(pd.DataFrame).all())
    assert list(both.columns) == ["i", "s"]  # the writer's declared columns


def test_a_bare_frame_declared_as_flyte_dataframe_is_refused_with_advice(raw, frame):
    with pytest.raises(TypeTransformerFailedError, match=r"wrap a frame with DataFrame\.from_df"):
        to_literal(frame, DataFrame)


def test_a_non_dataset_literal_is_a_mismatch():
    with pytest.raises(LiteralMismatchError, match="expected a structured dataset"):
        TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(1, int), pd.DataFrame)


def test_dataframes_inside_lists(raw, frame):
    lit = to_literal([frame, frame.head(1)], list[pd.DataFrame])
    back = to_python(lit, list[pd.DataFrame])
    assert back[0].equals(frame)
    assert back[1].equals(frame.head(1))


def test_structured_dataset_types_guess_back_to_dataframe():
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(pd.DataFrame)) is DataFrame


# --- the registry ----------------------------------------------------------------------------


class Rows:
    """A toy frame type, as a plugin would bring one."""

    def __init__(self, rows: list[str]):
        self.rows = rows


class RowsEncoder(DataFrameEncoder[Rows]):
    def __init__(self, protocol: str | None = None, fmt: str = "lines"):
        super().__init__(Rows, protocol, fmt)

    async def encode(self, dataframe, structured_dataset_type):
        from flyte.io import new_raw_data_uri

        uri = dataframe.uri or new_raw_data_uri()
        os.makedirs(uri, exist_ok=True)
        pathlib.Path(uri, "rows.txt").write_text("\n".join(dataframe.val.rows))  # noqa: ASYNC240 - tiny test file
        return literals_pb2.StructuredDataset(uri=uri)


class RowsDecoder(DataFrameDecoder[Rows]):
    def __init__(self, protocol: str | None = None, fmt: str = "lines"):
        super().__init__(Rows, protocol, fmt)

    async def decode(self, flyte_value, current_task_metadata):
        return Rows(pathlib.Path(flyte_value.uri, "rows.txt").read_text().split("\n"))  # noqa: ASYNC240


@pytest.fixture
def rows_registered():
    DataFrameTransformerEngine.register(RowsEncoder(), default_for_type=True)
    DataFrameTransformerEngine.register(RowsDecoder(), default_for_type=True)
    yield
    DataFrameTransformerEngine.ENCODERS.pop(Rows, None)
    DataFrameTransformerEngine.DECODERS.pop(Rows, None)
    DataFrameTransformerEngine.DEFAULT_FORMATS.pop(Rows, None)
    TypeEngine._REGISTRY.pop(Rows, None)
    TypeEngine._CODECS.clear()


def test_a_plugin_frame_type_round_trips_through_its_handlers(raw, rows_registered):
    lit = to_literal(Rows(["x", "y"]), Rows)
    assert lit.scalar.structured_dataset.metadata.structured_dataset_type.format == "lines"
    assert to_python(lit, Rows).rows == ["x", "y"]
    fdf = to_python(to_literal(DataFrame.from_df(Rows(["z"])), DataFrame), DataFrame)
    assert fdf.open(Rows).all_sync().rows == ["z"]


def test_handlers_are_keyed_by_type_protocol_and_format(rows_registered):
    s3 = RowsDecoder(protocol="s3")
    DataFrameTransformerEngine.register(s3)
    csv = RowsDecoder(fmt="csv")
    DataFrameTransformerEngine.register(csv)
    assert DataFrameTransformerEngine.get_decoder(Rows, "s3", "lines") is s3
    assert DataFrameTransformerEngine.get_decoder(Rows, "file", "csv") is csv
    assert DataFrameTransformerEngine.get_decoder(Rows, "file", "").supported_format == "lines"  # the default
    with pytest.raises(DuplicateHandlerError, match="override=True"):
        DataFrameTransformerEngine.register(RowsDecoder())
    DataFrameTransformerEngine.register(RowsDecoder(), override=True)


def test_reading_a_type_with_no_decoder_says_how_to_register_one(raw, frame):
    fdf = to_python(to_literal(DataFrame.from_df(frame), DataFrame), DataFrame)
    with pytest.raises(ValueError, match=r"no DataFrame decoder is registered for list"):
        fdf.open(list).all_sync()


def test_importing_flyte_io_loads_no_frame_library_nor_fsspec():
    code = (
        "import sys, flyte.io, flyte.types; from flyte.io import File, Dir, DataFrame; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pyarrow', 'fsspec', 'numpy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
