"""flyte-types exchanges literals with the public flyte 2.12.1 SDK, both ways, through files.

flyte 2.12.1 shares our import name, so it lives in its own cached venv (``tools/public_flyte.py``,
created on first run; the test skips only if it cannot be created). ``types_wire_corpus.py`` runs
unchanged on both sides: each side writes every case's literal and literal type, then decodes the
other side's literals and reports whether it got the expected value back.

Byte identity: literals and literal types are compared after *deterministic* serialization on
both sides, because protobuf map fields (``LiteralMap``, ``Struct`` metadata) are otherwise written
in hash-table order, which is not part of the encoding. Every case is then byte-identical except
where noted in ``NOT_BYTE_IDENTICAL``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import types_wire_corpus as corpus  # noqa: E402

from tools.public_flyte import PublicFlyteUnavailable, public_python  # noqa: E402

# Cases whose bytes may legitimately differ: a cloudpickle payload depends on the exact Python
# and cloudpickle versions of the writer (the two venvs happen to match today).
NOT_BYTE_IDENTICAL = {"pickle"}


def _public_python() -> Path:
    try:
        return public_python()
    except PublicFlyteUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    python = _public_python()
    root = tmp_path_factory.mktemp("wire")
    ours, theirs = root / "ours", root / "theirs"
    script = str(HERE / "types_wire_corpus.py")
    subprocess.run([str(python), script, "write", str(theirs)], check=True, capture_output=True, cwd=root)
    corpus.write(ours)
    report = root / "theirs_reads_ours.json"
    subprocess.run([str(python), script, "read", str(ours), str(report)], check=True, capture_output=True, cwd=root)
    return {
        "ours": ours,
        "theirs": theirs,
        "theirs_reads_ours": json.loads(report.read_text()),
        "ours_reads_theirs": corpus.read(theirs),
    }


CASES = sorted(corpus.CASES)


@pytest.mark.parametrize("case", CASES)
def test_flyte_2_12_1_decodes_our_literal_to_the_same_value(exchange, case):
    assert exchange["theirs_reads_ours"][case] == "ok"


@pytest.mark.parametrize("case", CASES)
def test_we_decode_flyte_2_12_1_literal_to_the_same_value(exchange, case):
    assert exchange["ours_reads_theirs"][case] == "ok"


@pytest.mark.parametrize("case", sorted(set(CASES) - NOT_BYTE_IDENTICAL))
def test_literals_are_byte_identical(exchange, case):
    assert (exchange["ours"] / f"{case}.lit").read_bytes() == (exchange["theirs"] / f"{case}.lit").read_bytes()


@pytest.mark.parametrize("case", CASES)
def test_literal_types_are_byte_identical(exchange, case):
    assert (exchange["ours"] / f"{case}.lt").read_bytes() == (exchange["theirs"] / f"{case}.lt").read_bytes()
