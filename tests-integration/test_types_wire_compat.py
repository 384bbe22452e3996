"""flyte-types exchanges literals with the public flyte 2.12.1 SDK, both ways, through files.

flyte 2.12.1 shares our import name, so it lives in its own cached venv (``tools/public_flyte.py``,
created on first run; the test skips only if it cannot be created). ``types_wire_corpus.py`` runs
unchanged on both sides: each side writes every case's literal and literal type, then decodes the
other side's literals and reports whether it got the expected value back.

Byte identity: literals and literal types are compared after *deterministic* serialization on
both sides, because protobuf map fields (``LiteralMap``, ``Struct`` metadata) are otherwise written
in hash-table order, which is not part of the encoding. Every case is then byte-identical except
where noted in ``NOT_BYTE_IDENTICAL``.

Blobs: both sides share one local folder (``FLYTE_WIRE_SHARED``). ``File`` and ``Dir`` refer to
the same input files there, so their literals are byte-identical outright. A DataFrame or a large
pickle is *written* by the encoding side under its own raw data path, at a random location, so
those literals are compared with the blob's uri cleared (``URI_DIFFERS``): everything else (blob
type, format, dataset metadata) must match byte for byte, and the uri must point at data the other
side reads back to an equal value.
"""

from __future__ import annotations

import json
import os
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
# Cases whose literal holds a uri each writer chose at random (see the module docstring).
URI_DIFFERS = {"dataframe_pandas", "dataframe_flyte", "pickle_large"}


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
    os.environ["FLYTE_WIRE_SHARED"] = str(root / "shared")
    env = {**os.environ}
    subprocess.run([str(python), script, "write", str(theirs)], check=True, capture_output=True, cwd=root, env=env)
    corpus.write(ours)
    report = root / "theirs_reads_ours.json"
    subprocess.run(
        [str(python), script, "read", str(ours), str(report)], check=True, capture_output=True, cwd=root, env=env
    )
    return {
        "ours": ours,
        "theirs": theirs,
        "theirs_reads_ours": json.loads(report.read_text()),
        "ours_reads_theirs": corpus.read(theirs),
    }


CASES = corpus.case_names()


def _literal_bytes(folder: Path, case: str) -> bytes:
    data = (folder / f"{case}.lit").read_bytes()
    if case not in URI_DIFFERS:
        return data
    from flyteidl2.core import literals_pb2

    lit = literals_pb2.Literal.FromString(data)
    kind = lit.scalar.WhichOneof("value")
    assert kind in ("blob", "structured_dataset"), f"{case}: unexpected {kind}"
    getattr(lit.scalar, kind).uri = ""
    return lit.SerializeToString(deterministic=True)


@pytest.mark.parametrize("case", CASES)
def test_flyte_2_12_1_decodes_our_literal_to_the_same_value(exchange, case):
    assert exchange["theirs_reads_ours"][case] == "ok"


@pytest.mark.parametrize("case", CASES)
def test_we_decode_flyte_2_12_1_literal_to_the_same_value(exchange, case):
    assert exchange["ours_reads_theirs"][case] == "ok"


@pytest.mark.parametrize("case", sorted(set(CASES) - NOT_BYTE_IDENTICAL))
def test_literals_are_byte_identical(exchange, case):
    assert _literal_bytes(exchange["ours"], case) == _literal_bytes(exchange["theirs"], case)


@pytest.mark.parametrize("case", sorted(URI_DIFFERS))
def test_written_blobs_land_under_the_writers_raw_data_path(exchange, case):
    from flyteidl2.core import literals_pb2

    for side in ("ours", "theirs"):
        lit = literals_pb2.Literal.FromString((exchange[side] / f"{case}.lit").read_bytes())
        uri = getattr(lit.scalar, lit.scalar.WhichOneof("value")).uri
        assert uri.startswith(str(exchange[side] / "raw")), (side, uri)


@pytest.mark.parametrize("case", CASES)
def test_literal_types_are_byte_identical(exchange, case):
    ours, theirs = (exchange["ours"] / f"{case}.lt").read_bytes(), (exchange["theirs"] / f"{case}.lt").read_bytes()
    if case == "dataframe_pandas":
        ours, theirs = _without_pandas_module(ours), _without_pandas_module(theirs)
    assert ours == theirs


def _without_pandas_module(data: bytes) -> bytes:
    """The tag is the frame class's qualified name: ``pandas.DataFrame`` under pandas 3,
    ``pandas.core.frame.DataFrame`` under pandas 2; the venvs may run different majors."""
    from flyteidl2.core import types_pb2

    lt = types_pb2.LiteralType.FromString(data)
    assert lt.structure.tag.startswith("pandas."), lt.structure.tag
    assert lt.structure.tag.endswith(".DataFrame"), lt.structure.tag
    lt.structure.tag = "pandas.DataFrame"
    return lt.SerializeToString(deterministic=True)
