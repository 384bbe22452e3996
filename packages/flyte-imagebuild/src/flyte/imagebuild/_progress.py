"""Where build and push output goes when a builder was given no ``progress`` callback.

A front end (the ``flyte`` CLI) installs one callback for the duration of a command with
`build_progress`; it then sees every line of every build that command starts, including builds
started from deeper layers (``flyte deploy`` building missing images) and on worker threads.
It is a plain module global, not a contextvar, for that reason. Without one, lines are logged
at INFO on the ``flyte.imagebuild`` logger.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger("flyte.imagebuild")

_hook: Callable[[str], None] | None = None
_lock = threading.Lock()


@contextmanager
def build_progress(callback: Callable[[str], None] | None) -> Iterator[None]:
    """Send every build/push output line to ``callback`` until the block ends.

    Builders created with their own ``progress`` callback keep it. The previous callback comes
    back afterwards; ``None`` sends lines to the log again.

    Example:
        >>> lines = []
        >>> with build_progress(lines.append):
        ...     emit("Step 1/2 : FROM base")
        >>> lines
        ['Step 1/2 : FROM base']
    """
    global _hook
    with _lock:
        previous, _hook = _hook, callback
    try:
        yield
    finally:
        with _lock:
            _hook = previous


def emit(line: str) -> None:
    """One output line: to the installed `build_progress` callback, else the log."""
    hook = _hook
    if hook is not None:
        hook(line)
    else:
        logger.info("%s", line)
