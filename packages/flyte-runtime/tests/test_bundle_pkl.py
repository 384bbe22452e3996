"""The pkl code bundle: notebook-defined code travels by value and comes back callable."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import cloudpickle
import pytest

from flyte.errors import CodeBundleError
from flyte.runtime._bundle import build_pkl_bundle, load_pkl_bundle

OFFSET = 100


def add_offset(x: int) -> int:
    """A function defined in this test module, using a module global."""
    return x + OFFSET


def make_multiplier(factor: int) -> Callable[[int], int]:
    return lambda x: x * factor


def run_python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter that cannot import this test module."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_module_function_round_trips(tmp_path: Path) -> None:
    bundle = build_pkl_bundle(add_offset, tmp_path)

    loaded = load_pkl_bundle(bundle.path)

    assert callable(loaded)
    assert loaded(1) == 101


def test_closure_and_lambda_round_trip(tmp_path: Path) -> None:
    triple = make_multiplier(3)

    loaded = load_pkl_bundle(build_pkl_bundle(triple, tmp_path).path)

    assert callable(loaded)
    assert loaded(5) == 15


def test_name_is_fast_plus_32_hex_digits_and_the_header_has_no_timestamp(tmp_path: Path) -> None:
    bundle = build_pkl_bundle({"a": 1}, tmp_path)

    assert re.fullmatch(r"fast[0-9a-f]{32}\.pkl\.gz", bundle.path.name)
    assert bundle.path.name == f"fast{bundle.digest[:32]}.pkl.gz"
    assert bundle.size == bundle.path.stat().st_size
    header = bundle.path.read_bytes()[:10]
    assert header[3] == 0  # no file name
    assert header[4:8] == b"\x00\x00\x00\x00"  # no timestamp


def test_same_object_gives_the_same_bytes_and_name(tmp_path: Path) -> None:
    first = build_pkl_bundle(make_multiplier(7), tmp_path / "a")
    second = build_pkl_bundle(make_multiplier(7), tmp_path / "b")

    assert first.path.name == second.path.name
    assert first.path.read_bytes() == second.path.read_bytes()


def test_main_module_function_travels_by_value_to_another_process(tmp_path: Path) -> None:
    # What a notebook does: define the task in __main__, then ship it.
    build = run_python(
        """
        import sys
        from pathlib import Path
        from flyte.runtime._bundle import build_pkl_bundle
        GREETING = "hello"
        def greet(name):
            return f"{GREETING}, {name}"
        print(build_pkl_bundle(greet, Path(sys.argv[1])).path)
        """,
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr

    load = run_python(
        """
        import sys
        from pathlib import Path
        from flyte.runtime._bundle import load_pkl_bundle
        print(load_pkl_bundle(Path(sys.argv[1]))("flyte"))
        """,
        build.stdout.strip(),
        cwd=tmp_path,
    )

    assert load.returncode == 0, load.stderr
    assert load.stdout.strip() == "hello, flyte"


def test_by_value_module_loads_where_the_module_does_not_exist(tmp_path: Path) -> None:
    bundle = build_pkl_bundle(add_offset, tmp_path / "out", by_value=[sys.modules[__name__]])

    load = run_python(
        """
        import sys
        from pathlib import Path
        from flyte.runtime._bundle import load_pkl_bundle
        print(load_pkl_bundle(Path(sys.argv[1]))(1))
        """,
        str(bundle.path),
        cwd=tmp_path,
    )

    assert load.returncode == 0, load.stderr
    assert load.stdout.strip() == "101"


def test_by_reference_function_fails_to_load_where_its_module_is_missing(tmp_path: Path) -> None:
    bundle = build_pkl_bundle(add_offset, tmp_path / "out")

    load = run_python(
        """
        import sys
        from pathlib import Path
        from flyte.errors import CodeBundleError
        from flyte.runtime._bundle import load_pkl_bundle
        try:
            load_pkl_bundle(Path(sys.argv[1]))
        except CodeBundleError as e:
            print(e)
        """,
        str(bundle.path),
        cwd=tmp_path,
    )

    assert load.returncode == 0, load.stderr
    assert "cannot load the pkl code bundle" in load.stdout
    assert "ModuleNotFoundError" in load.stdout


def test_by_value_registration_is_undone_after_the_build(tmp_path: Path) -> None:
    module = sys.modules[__name__]
    build_pkl_bundle(add_offset, tmp_path, by_value=[module])

    assert module.__name__ not in cloudpickle.list_registry_pickle_by_value()


def test_unpicklable_object_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CodeBundleError, match=r"cannot build a pkl code bundle of <unlocked _thread\.lock.*TypeError"):
        build_pkl_bundle(threading.Lock(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_bundle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fastbad.pkl.gz"
    path.write_bytes(gzip.compress(b"not a pickle", mtime=0))

    with pytest.raises(CodeBundleError, match=r"cannot load the pkl code bundle .*fastbad\.pkl\.gz"):
        load_pkl_bundle(path)


def test_file_that_is_not_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.pkl.gz"
    path.write_bytes(b"plain bytes")

    with pytest.raises(CodeBundleError, match=r"cannot read the pkl code bundle .*plain\.pkl\.gz"):
        load_pkl_bundle(path)


def test_missing_bundle_is_named(tmp_path: Path) -> None:
    with pytest.raises(CodeBundleError, match=r"nope\.pkl\.gz"):
        load_pkl_bundle(tmp_path / "nope.pkl.gz")


def test_bundle_larger_than_max_bytes_is_refused(tmp_path: Path) -> None:
    bundle = build_pkl_bundle(b"\0" * 100_000, tmp_path)  # compresses to almost nothing

    with pytest.raises(CodeBundleError, match=r"more than 10000 bytes \(max_bytes\)"):
        load_pkl_bundle(bundle.path, max_bytes=10_000)
