"""Spark DataFrames between tasks: written as a parquet dataset folder, read back as a Spark DataFrame.

A task that returns a ``pyspark.sql.DataFrame`` (or a ``flyte.io.DataFrame`` wrapping one) has it
written by Spark itself (``df.write.parquet``: one file per partition, plus Spark's ``_SUCCESS``
marker) to a folder under the raw data path; any parquet reader (pandas, pyarrow, Dask) reads
that folder. A task that takes one reads the folder with the running session, and reads
datasets written by other engines the same way (``<uri>/00000`` from pandas or pyarrow).

Registration is lazy (:mod:`flyteplugins.spark._dataframe_registration`): this module and pyspark
load the first time a pyspark type meets the type engine.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

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
from flyteplugins.spark._config import Spark
from flyteplugins.spark._engine import local_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkToParquetEncoder(DataFrameEncoder[Any]):
    """Writes a Spark DataFrame as a parquet dataset folder (Spark's own writer, one file per partition)."""

    def __init__(self, python_type: type) -> None:
        super().__init__(python_type, None, PARQUET)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        frame = dataframe.val
        if _stopped(frame):
            raise ValueError(
                "cannot write the Spark DataFrame: the SparkSession it belongs to was stopped. Return frames "
                "of a running session (the engine's, flyte.ctx().data['spark_session']); a session that idles "
                "longer than local_spark.idle_timeout between the task and the write is stopped."
            )

        def write(folder: str) -> None:
            frame.write.mode("overwrite").parquet(folder)

        # The task that made the frame has released the session; keep it up while Spark writes.
        with local_spark.keep_alive():
            uri = await write_dataset(dataframe, write)
        sdt = types_pb2.StructuredDatasetType()
        sdt.CopyFrom(structured_dataset_type)
        sdt.format = PARQUET
        return literals_pb2.StructuredDataset(
            uri=uri, metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=sdt)
        )


def _stopped(frame: Any) -> bool:
    context = frame.sparkSession.sparkContext
    jsc = getattr(context, "_jsc", None)
    return jsc is None or bool(jsc.sc().isStopped())


class ParquetToSparkDecoder(DataFrameDecoder[Any]):
    """Reads a parquet dataset (a folder of files, or one file) as a Spark DataFrame of the running session."""

    def __init__(self, python_type: type) -> None:
        super().__init__(python_type, None, PARQUET)

    async def decode(
        self,
        flyte_value: literals_pb2.StructuredDataset,
        current_task_metadata: literals_pb2.StructuredDatasetMetadata,
    ) -> Any:
        path = await local_dataset(flyte_value.uri)
        columns = [c.name for c in current_task_metadata.structured_dataset_type.columns]

        def read() -> Any:
            frame = reading_session().read.parquet(path)
            return frame.select(*columns) if columns else frame

        return await asyncio.to_thread(read)


def reading_session() -> SparkSession:
    """The session to read with: the engine's, else one already active, else the engine started with defaults.

    A task's inputs are read before the task acquires the engine. A session started here with
    the defaults stays up idle, and the task then reuses it unless it asks for static properties
    the defaults lack, which restart it (and leave frames read before that unusable).
    """
    with local_spark.keep_alive() as run:
        if run is not None:
            return run.session
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    with local_spark.hold(Spark()) as run:
        return run.session


def spark_frame_types() -> list[type]:
    """``pyspark.sql.DataFrame`` and the class its objects have (pyspark 4's classic DataFrame)."""
    from pyspark.sql import DataFrame as SparkDataFrame

    types: list[type] = [SparkDataFrame]
    try:
        from pyspark.sql.classic.dataframe import DataFrame as ClassicDataFrame
    except ImportError:  # pyspark 3: one class
        return types
    if ClassicDataFrame is not SparkDataFrame:
        types.append(ClassicDataFrame)
    return types


@functools.cache
def register_handlers() -> None:
    """Register the Spark DataFrame encoder and decoder (imports pyspark)."""
    for frame_type in spark_frame_types():
        DataFrameTransformerEngine.register(SparkToParquetEncoder(frame_type), default_format_for_type=True)
        DataFrameTransformerEngine.register(ParquetToSparkDecoder(frame_type), default_format_for_type=True)
