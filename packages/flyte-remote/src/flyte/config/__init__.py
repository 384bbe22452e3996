"""SDK configuration: a YAML file plus ``FLYTE_<SECTION>_<KEY>`` environment variables.

The file is the one passed explicitly, or the first of ``./config.yaml``,
``./.flyte/config.yaml``, ``<git root>/.flyte/config.yaml``, ``$FLYTECTL_CONFIG``,
``~/.flyte/config.yaml``::

    admin:
      endpoint: dns:///localhost:8090
      insecure: true
    task:
      project: flytesnacks
      domain: development
    image:
      builder: local
      registry: localhost:5000

Every key can be overridden by its variable (``FLYTE_ADMIN_ENDPOINT``, ``FLYTE_TASK_PROJECT``,
``FLYTE_IMAGE_REGISTRY``, ...). A value of the wrong form raises :class:`ConfigError` naming the
file and key (or the variable) and the form expected.
"""

from flyte.config._config import Config, ImageConfig, PlatformConfig, TaskConfig, auto
from flyte.config._file import ConfigError, find_config_file, read_config_file

__all__ = [
    "Config",
    "ConfigError",
    "ImageConfig",
    "PlatformConfig",
    "TaskConfig",
    "auto",
    "find_config_file",
    "read_config_file",
]
