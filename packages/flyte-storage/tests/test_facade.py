"""The sync facade, cheap imports and lazily loaded backends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import flyte.storage as storage
from flyte.storage import _sync


def test_sync_functions_work_without_an_event_loop(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    uri = storage.put_sync(str(tmp_path / "a.txt"), str(tmp_path / "remote" / "a.txt"))
    assert storage.exists_sync(uri)
    assert Path(storage.get_sync(uri, str(tmp_path / "back.txt"))).read_bytes() == b"a"


def test_a_sync_call_from_the_facades_own_loop_fails_clearly_instead_of_deadlocking() -> None:
    async def inside() -> None:
        storage.exists_sync("/tmp")

    future = asyncio.run_coroutine_threadsafe(inside(), _sync._runner.loop())
    with pytest.raises(storage.StorageConfigError, match="await the async form"):
        future.result(timeout=30)


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_importing_flyte_storage_loads_no_backend_and_not_fsspec() -> None:
    loaded = _run(
        "import sys, flyte.storage; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fsspec','s3fs','gcsfs','adlfs','botocore','aiohttp'}))"
    )
    assert loaded == "[]"


def test_a_backend_is_imported_when_its_scheme_is_first_used(tmp_path: Path) -> None:
    loaded = _run(
        "import sys, asyncio, flyte.storage as s\n"
        "s.configure(s.S3(endpoint='http://127.0.0.1:9', access_key_id='k', secret_access_key='s', retries=0))\n"
        "try: asyncio.run(s.exists('s3://bucket/key'))\n"
        "except s.StorageError: pass\n"
        "print('s3fs' in sys.modules, 'gcsfs' in sys.modules, 'adlfs' in sys.modules)"
    )
    assert loaded == "True False False"


def test_a_missing_extra_names_the_package_to_install() -> None:
    # The extra is installed here, so hide it the way a missing install looks to Python.
    out = _run(
        "import sys, asyncio; sys.modules['gcsfs'] = None\n"
        "import flyte.storage as s\n"
        "try: asyncio.run(s.exists('gs://bucket/key'))\n"
        "except s.StorageBackendMissingError as e: print(e)"
    )
    assert "gs://bucket/key" in out
    assert "pip install 'flyte-storage[gcs]'" in out
