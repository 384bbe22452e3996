"""The inline metadata block of a uv script (PEP 723).

Only the block is taken (as text): it is what the image depends on, so editing the script's code
does not change the tag. uv reads it in the build (``uv pip install -r script.py``), so nothing
here needs a TOML parser.
"""

from __future__ import annotations

import re
from pathlib import Path

# The reference regular expression of PEP 723.
_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


def script_block(path: Path) -> str:
    """The ``# /// script`` block of ``path``, markers included, as a script of its own.

    Raises:
        FileNotFoundError: the script does not exist.
        ValueError: it has no script block, or several.
    """
    blocks = [m for m in _BLOCK.finditer(path.read_text()) if m.group("type") == "script"]
    if not blocks:
        raise ValueError(f"{path} has no '# /// script' metadata block (PEP 723)")
    if len(blocks) > 1:
        raise ValueError(f"{path} has {len(blocks)} '# /// script' blocks; PEP 723 allows one")
    return blocks[0].group(0) + "\n"
