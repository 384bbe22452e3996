"""Dask DataFrames between tasks: written as a parquet dataset folder, read back lazily as a Dask DataFrame.

A task that returns a ``dask.dataframe.DataFrame`` (or a ``flyte.io.DataFrame`` wrapping one) has
it computed and written partition by partition (``to_parquet``: one file per partition) to a
folder under the raw data path, on the local cluster when it is up; pandas, pyarrow and Spark
read that folder. A task that takes one gets ``dd.read_parquet`` of the folder, which reads
datasets written by other engines too (``<uri>/00000`` from pandas or pyarrow, Spark's
``part-*`` files).

Registration is lazy (:mod:`flyteplugins.dask._dataframe_registration`): this module and
``dask.dataframe`` load the first time a Dask DataFrame type meets the type engine.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.extend import (
    PARQUET,
    DataFrame,
    DataFrameDecoder,
    DataFrameEncoder,
    DataFrameTransformerEngine,
    local_dataset,
    write_dataset,
)
from flyteplugins.dask._engine import local_dask


class DaskToParquetEncoder(DataFrameEncoder[Any]):
    """Computes a Dask DataFrame and writes it as a parquet dataset folder (one file per partition)."""

    def __init__(self, python_type: type) -> None:
        super().__init__(python_type, None, PARQUET)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        frame = dataframe.val

        def write(folder: str) -> None:
            frame.to_parquet(folder, write_metadata_file=False)

        # The task that made the frame has released the cluster; keep it up while it computes.
        with local_dask.keep_alive():
            uri = await write_dataset(dataframe, write)
        sdt = types_pb2.StructuredDatasetType()
        sdt.CopyFrom(structured_dataset_type)
        sdt.format = PARQUET
        return literals_pb2.StructuredDataset(
            uri=uri, metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=sdt)
        )


class ParquetToDaskDecoder(DataFrameDecoder[Any]):
    """Reads a parquet dataset (a folder of files, or one file) as a lazy Dask DataFrame."""

    def __init__(self, python_type: type) -> None:
        super().__init__(python_type, None, PARQUET)

    async def decode(
        self,
        flyte_value: literals_pb2.StructuredDataset,
        current_task_metadata: literals_pb2.StructuredDatasetMetadata,
    ) -> Any:
        import dask.dataframe as dd

        path = await local_dataset(flyte_value.uri)
        columns = [c.name for c in current_task_metadata.structured_dataset_type.columns] or None
        # Every data file counts, whatever its name (pandas writes `00000`); `_`/`.` ones are skipped.
        return await asyncio.to_thread(dd.read_parquet, path, columns=columns, parquet_file_extension=None)


@functools.cache
def register_handlers() -> None:
    """Register the Dask DataFrame encoder and decoder (imports dask.dataframe)."""
    import dask.dataframe as dd

    DataFrameTransformerEngine.register(DaskToParquetEncoder(dd.DataFrame), default_format_for_type=True)
    DataFrameTransformerEngine.register(ParquetToDaskDecoder(dd.DataFrame), default_format_for_type=True)
