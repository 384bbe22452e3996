"""The SDK's logger for user code: ``flyte.logger.info(...)`` inside a task."""

from __future__ import annotations

import logging

logger = logging.getLogger("flyte")
