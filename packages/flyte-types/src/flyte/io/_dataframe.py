"""`DataFrame`: a table in blob storage (a structured dataset), and the handler interfaces.

A ``DataFrame`` either wraps a frame in memory (``DataFrame.from_df(pandas_df)``), to be written
by an encoder when the value is converted to a literal, or refers to stored data (``uri`` +
``format``), read by a decoder only when asked: ``await fdf.open(pd.DataFrame).all()``.

Encoders and decoders are registered with :class:`~flyte.io.DataFrameTransformerEngine` under
``(python type, protocol, format)``, so a plugin can teach the engine a new frame type (Spark,
Dask, polars), a new store or a new file format without touching this module.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flyte.io._sync import run_sync

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2, types_pb2

DF = TypeVar("DF")

PARQUET = "parquet"
CSV = "csv"
GENERIC_FORMAT = ""
GENERIC_PROTOCOL = "generic protocol"


class DataFrame:
    """A table passed between tasks by reference: a structured-dataset literal (uri + format).

    Example:
        >>> async def make() -> DataFrame:  # doctest: +SKIP
        ...     return DataFrame.from_df(pd.DataFrame({"a": [1, 2]}))
        >>> async def use(df: DataFrame) -> int:  # doctest: +SKIP
        ...     frame = await df.open(pd.DataFrame).all()  # read only now
        ...     return len(frame)

    Attributes:
        uri: where the data is (or is to be written); None for a frame not yet written.
        format: the storage format (``"parquet"``), ``""`` for the type's default.
        hash: a cache key for the content, when known.
    """

    def __init__(self, uri: str | None = None, format: str = GENERIC_FORMAT, hash: str | None = None, val: Any = None):
        self.uri = uri
        self.format = format
        self.hash = hash
        self._val = val
        self._literal: literals_pb2.StructuredDataset | None = None
        self._metadata: literals_pb2.StructuredDatasetMetadata | None = None

    @classmethod
    def from_df(cls, val: Any, uri: str | None = None) -> DataFrame:
        """Wrap a frame in memory (pandas, pyarrow, or any type with a registered encoder).

        Args:
            val: the frame.
            uri: where to write it; default a fresh folder under the raw data path.
        """
        return cls(uri=uri, val=val)

    @classmethod
    def from_existing_remote(cls, remote_path: str, format: str | None = None) -> DataFrame:
        """Refer to data that is already stored (nothing is copied)."""
        return cls(uri=remote_path, format=format or GENERIC_FORMAT)

    @classmethod
    async def from_local(cls, val: Any, remote_destination: str | None = None) -> DataFrame:
        """Write a frame now (under the raw data path, or to ``remote_destination``)."""
        from flyte.io._dataframe_engine import DataFrameTransformerEngine

        fdf = cls.from_df(val, uri=remote_destination)
        await DataFrameTransformerEngine.instance().write(fdf, DataFrame)
        return fdf

    @property
    def val(self) -> Any:
        """The wrapped frame, or None for a reference to stored data."""
        return self._val

    @property
    def metadata(self) -> literals_pb2.StructuredDatasetMetadata | None:
        return self._metadata

    @property
    def literal(self) -> literals_pb2.StructuredDataset | None:
        """The structured dataset this value was read from or written as, if any."""
        return self._literal

    def open(self, dataframe_type: type[DF]) -> DataFrameReader[DF]:
        """Choose the Python type to read the data as: ``await df.open(pd.DataFrame).all()``."""
        return DataFrameReader(self, dataframe_type)

    async def all(self) -> Any:
        """The wrapped frame, or the stored data read as a ``pandas.DataFrame``."""
        if self._val is not None:
            return self._val
        import pandas as pd  # type: ignore[import-untyped]

        return await self.open(pd.DataFrame).all()

    def __repr__(self) -> str:
        what = f"val={type(self._val).__name__}" if self._val is not None else f"uri={self.uri!r}"
        return f"DataFrame({what}, format={self.format!r})"


class DataFrameReader(Generic[DF]):
    """What :meth:`DataFrame.open` returns: reads the data as ``DF`` when asked."""

    def __init__(self, frame: DataFrame, dataframe_type: type[DF]):
        self._frame = frame
        self._type = dataframe_type

    async def all(self) -> DF:
        """The whole table as one ``DF``."""
        if self._frame.val is not None and isinstance(self._frame.val, self._type):
            return self._frame.val
        from flyte.io._dataframe_engine import DataFrameTransformerEngine

        result = await DataFrameTransformerEngine.instance().read(self._frame, self._type)
        if isinstance(result, AsyncIterator):
            raise TypeError(f"the decoder for {self._type.__name__} streams; use `async for part in ....iter()`")
        return result  # type: ignore[no-any-return]

    def all_sync(self) -> DF:
        """Blocking :meth:`all`."""
        return run_sync(self.all(), "DataFrame.open(...).all")

    async def iter(self) -> AsyncIterator[DF]:
        """The table in parts, for decoders that stream (others yield the whole table once)."""
        from flyte.io._dataframe_engine import DataFrameTransformerEngine

        result = await DataFrameTransformerEngine.instance().read(self._frame, self._type)
        if isinstance(result, AsyncIterator):
            async for part in result:
                yield part
        else:
            yield result


class _DataFrameHandler(Generic[DF]):
    """What an encoder and a decoder are registered by: a frame type, a protocol and a format."""

    def __init__(self, python_type: type[DF], protocol: str | None = None, supported_format: str | None = None):
        self._python_type = python_type
        self._protocol = protocol
        self._supported_format = supported_format or GENERIC_FORMAT

    @property
    def python_type(self) -> type[DF]:
        return self._python_type

    @property
    def protocol(self) -> str | None:
        return self._protocol

    @property
    def supported_format(self) -> str:
        return self._supported_format


class DataFrameEncoder(_DataFrameHandler[DF], abc.ABC):
    """Writes frames of ``python_type`` to storage. Register with ``DataFrameTransformerEngine.register``.

    Args:
        python_type: the frame class (``pandas.DataFrame``).
        protocol: the storage protocol it writes to (``"s3"``, ``"file"``), None for any.
        supported_format: the format it writes (``"parquet"``), ``""`` for any.
    """

    @abc.abstractmethod
    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: types_pb2.StructuredDatasetType
    ) -> literals_pb2.StructuredDataset:
        """Write ``dataframe.val`` (to ``dataframe.uri`` if set, else under the raw data path).

        Returns:
            The structured dataset: its ``uri`` and metadata (``structured_dataset_type``).
        """


class DataFrameDecoder(_DataFrameHandler[DF], abc.ABC):
    """Reads stored frames as ``python_type``. Register with ``DataFrameTransformerEngine.register``.

    Args:
        python_type: the frame class it produces.
        protocol: the storage protocol it reads from, None for any.
        supported_format: the format it reads, ``""`` for any.
    """

    @abc.abstractmethod
    async def decode(
        self, flyte_value: literals_pb2.StructuredDataset, current_task_metadata: literals_pb2.StructuredDatasetMetadata
    ) -> DF | AsyncIterator[DF]:
        """Read the data at ``flyte_value.uri``.

        ``current_task_metadata.structured_dataset_type.columns`` lists the columns the reading
        task asked for (or, when it asked for none, those the writer declared); read only those.
        """
