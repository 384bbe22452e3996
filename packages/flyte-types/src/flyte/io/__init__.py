"""`File`, `Dir` and `DataFrame`: data that lives in blob storage and moves between tasks.

Importing this package is cheap: nothing below loads until a name is used, and pandas, pyarrow
and the storage backends only when data is actually read or written.

The raw data path (where new files, frames and large pickles are written) comes from
:func:`use_raw_data_path`, which the runtime sets around each action; outside it, a local
temporary folder.

Example:
    >>> from flyte.io import File
    >>> f = File(path="s3://bucket/data.csv", format="csv")
    >>> f.name
    'data.csv'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte.io._dataframe import (
        CSV,
        PARQUET,
        DataFrame,
        DataFrameDecoder,
        DataFrameEncoder,
        DataFrameReader,
    )
    from flyte.io._dataframe_engine import DataFrameTransformerEngine, DuplicateHandlerError
    from flyte.io._dir import Dir
    from flyte.io._file import File
    from flyte.io._raw_data import new_raw_data_uri, raw_data_path, use_raw_data_path

__all__ = [
    "CSV",
    "PARQUET",
    "DataFrame",
    "DataFrameDecoder",
    "DataFrameEncoder",
    "DataFrameReader",
    "DataFrameTransformerEngine",
    "Dir",
    "DuplicateHandlerError",
    "File",
    "new_raw_data_uri",
    "raw_data_path",
    "use_raw_data_path",
]

_LAZY = {
    "CSV": "flyte.io._dataframe",
    "PARQUET": "flyte.io._dataframe",
    "DataFrame": "flyte.io._dataframe",
    "DataFrameDecoder": "flyte.io._dataframe",
    "DataFrameEncoder": "flyte.io._dataframe",
    "DataFrameReader": "flyte.io._dataframe",
    "DataFrameTransformerEngine": "flyte.io._dataframe_engine",
    "DuplicateHandlerError": "flyte.io._dataframe_engine",
    "Dir": "flyte.io._dir",
    "File": "flyte.io._file",
    "new_raw_data_uri": "flyte.io._raw_data",
    "raw_data_path": "flyte.io._raw_data",
    "use_raw_data_path": "flyte.io._raw_data",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
