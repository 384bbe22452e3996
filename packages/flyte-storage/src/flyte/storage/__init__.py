"""One async interface over local disk and the S3, GCS and Azure blob stores."""

from flyte.storage._version import __version__

__all__ = ["__version__"]
