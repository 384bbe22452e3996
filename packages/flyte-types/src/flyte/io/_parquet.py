"""The built-in DataFrame handlers: pandas and pyarrow tables <-> parquet, on any store.

Data is written as ``<uri>/00000`` (one parquet file in a folder, the layout flyte 2.12.1 and
Spark-style readers expect) and read back from the folder, so datasets written as several files
by other engines read too. Local destinations are written in place; remote ones are written to
a local scratch folder and uploaded (reads download first). The parquet work runs in a thread:
pyarrow releases the GIL, and the event loop stays free.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.io._dataframe import PARQUET, DataFrame, DataFrameDecoder, DataFrameEncoder
from flyte.io._raw_data import new_raw_data_uri

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]
    import pyarrow as pa  # type: ignore[import-untyped]

PART = "00000"
_MISSING = "reading and writing DataFrames as parquet needs pyarrow: pip install 'flyte-types[pandas]'"


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return pq


def _is_remote(uri: str) -> bool:
    from flyte.storage import is_remote

    return is_remote(uri)


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


async def write_parquet(dataframe: DataFrame, write: Callable[[str], None]) -> str:
    """Call ``write(local_file)`` and put the file at ``<uri>/00000``; returns the uri."""
    import flyte.storage as storage

    uri = dataframe.uri or new_raw_data_uri()
    if not _is_remote(uri):
        folder = _local(uri)
        await asyncio.to_thread(os.makedirs, folder, exist_ok=True)
        await asyncio.to_thread(write, os.path.join(folder, PART))
        return uri
    scratch = storage.get_random_local_directory()
    try:
        local = os.path.join(scratch, PART)
        await asyncio.to_thread(write, local)
        await storage.put(local, storage.join(uri, PART))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return uri


async def read_parquet(uri: str, read: Callable[[str], Any]) -> Any:
    """``read(local_path)`` of the dataset at ``uri`` (a folder of parquet files, or one file)."""
    import flyte.storage as storage

    if not _is_remote(uri):
        return await asyncio.to_thread(read, _local(uri))
    scratch = storage.get_random_local_directory()
    try:
        try:
            local = await storage.get(uri, os.path.join(scratch, "data"), recursive=True)
        except storage.InvalidStoragePathError:  # a single object rather than a prefix
            local = await storage.get(uri, os.path.join(scratch, "data.parquet"))
        return await asyncio.to_thread(read, local)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _columns(metadata: literals_pb2.StructuredDatasetMetadata) -> list[str] | None:
    names = [c.name for c in metadata.structured_dataset_type.columns]
    return names or None


def _dataset(uri: str, sdt: types_pb2.StructuredDatasetType) -> literals_pb2.StructuredDataset:
    out = types_pb2.StructuredDatasetType()
    out.CopyFrom(sdt)
    out.format = PARQUET
    return literals_pb2.StructuredDataset(
        uri=uri, metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=out)
    )


def _single_file(path: str) -> str:
    """The one data file of a dataset folder (skipping dataset discovery), else ``path`` itself."""
    if os.path.isdir(path):
        files = [f for f in os.listdir(path) if not f.startswith((".", "_"))]
        if len(files) == 1:
            return os.path.join(path, files[0])
    return path


class PandasToParquetEncodingHandler(DataFrameEncoder["pd.DataFrame"]):
    def __init__(self) -> None:
        import pandas as pd

        super().__init__(pd.DataFrame, None, PARQUET)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        pq = _pyarrow_parquet()
        df = dataframe.val

        def write(path: str) -> None:
            # What pandas' to_parquet does, minus its path handling (which opens a Python file
            # object instead of letting arrow write natively): same bytes, less time.
            import pyarrow as pa

            table = pa.Table.from_pandas(df)
            pq.write_table(table, path, coerce_timestamps="us", allow_truncated_timestamps=False)

        return _dataset(await write_parquet(dataframe, write), structured_dataset_type)


class ParquetToPandasDecodingHandler(DataFrameDecoder["pd.DataFrame"]):
    def __init__(self) -> None:
        import pandas as pd

        super().__init__(pd.DataFrame, None, PARQUET)

    async def decode(
        self, flyte_value: literals_pb2.StructuredDataset, current_task_metadata: literals_pb2.StructuredDatasetMetadata
    ) -> pd.DataFrame:
        columns = _columns(current_task_metadata)

        def read(path: str) -> pd.DataFrame:
            # pyarrow's to_pandas restores the pandas metadata (index, dtypes) as pd.read_parquet does.
            return _pyarrow_parquet().read_table(_single_file(path), columns=columns).to_pandas()

        return await read_parquet(flyte_value.uri, read)


class ArrowToParquetEncodingHandler(DataFrameEncoder["pa.Table"]):
    def __init__(self) -> None:
        import pyarrow as pa

        super().__init__(pa.Table, None, PARQUET)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        pq = _pyarrow_parquet()
        table = dataframe.val
        uri = await write_parquet(dataframe, lambda path: pq.write_table(table, path))
        return _dataset(uri, structured_dataset_type)


class ParquetToArrowDecodingHandler(DataFrameDecoder["pa.Table"]):
    def __init__(self) -> None:
        import pyarrow as pa

        super().__init__(pa.Table, None, PARQUET)

    async def decode(
        self, flyte_value: literals_pb2.StructuredDataset, current_task_metadata: literals_pb2.StructuredDatasetMetadata
    ) -> pa.Table:
        columns = _columns(current_task_metadata)
        return await read_parquet(
            flyte_value.uri, lambda path: _pyarrow_parquet().read_table(_single_file(path), columns=columns)
        )
