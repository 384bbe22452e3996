"""Registration of `flyte.io`'s transformers and built-in DataFrame handlers with the TypeEngine.

The TypeEngine calls these lazily (``TypeEngine.register_lazy``): the blob transformers when a
``flyte.io`` type or a blob / structured-dataset literal type is first met, the pandas and
pyarrow handlers when a type from those packages is. So ``import flyte.io`` and ``import
flyte.types`` load neither pandas nor pyarrow.
"""

from __future__ import annotations

import functools


@functools.cache
def register_io() -> None:
    from flyte.io._blob_transformers import DirTransformer, FileTransformer
    from flyte.io._dataframe_engine import DataFrameTransformerEngine
    from flyte.types._engine import TypeEngine

    TypeEngine.register(FileTransformer())
    TypeEngine.register(DirTransformer())
    TypeEngine.register(DataFrameTransformerEngine.instance())


@functools.cache
def register_pandas() -> None:
    from flyte.io._dataframe_engine import DataFrameTransformerEngine
    from flyte.io._parquet import PandasToParquetEncodingHandler, ParquetToPandasDecodingHandler

    register_io()
    DataFrameTransformerEngine.register(PandasToParquetEncodingHandler(), default_format_for_type=True)
    DataFrameTransformerEngine.register(ParquetToPandasDecodingHandler(), default_format_for_type=True)


@functools.cache
def register_arrow() -> None:
    from flyte.io._dataframe_engine import DataFrameTransformerEngine
    from flyte.io._parquet import ArrowToParquetEncodingHandler, ParquetToArrowDecodingHandler

    register_io()
    DataFrameTransformerEngine.register(ArrowToParquetEncodingHandler(), default_format_for_type=True)
    DataFrameTransformerEngine.register(ParquetToArrowDecodingHandler(), default_format_for_type=True)
