"""Where `get io --download` puts each value, on local disk and with real files (no server)."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from pathlib import Path

import pytest

from flyte.cli._download import DownloadError, _relative, check_targets, download_all, stored_values
from flyte.io import DataFrame, Dir, File


def test_targets_keep_file_extensions_and_nest_lists_and_dicts(tmp_path: Path):
    io = {
        "inputs": {"n": 3, "f": File(path="/data/in.parquet")},
        "outputs": {
            "o0": [File(path="s3://b/r/a.csv"), File(path="s3://b/r/noext")],
            "o1": {"../up": Dir(path="s3://b/r/d/"), "ok": DataFrame(uri="s3://b/r/df")},
            "o2": DataFrame(),  # not written anywhere: nothing to download
        },
    }
    found = {
        v.label: (v.uri, v.target.relative_to(tmp_path).as_posix(), v.kind)
        for v in stored_values(io, ["inputs", "outputs"], tmp_path)
    }
    assert found == {
        "inputs.f": ("/data/in.parquet", "inputs/f.parquet", "file"),
        "outputs.o0[0]": ("s3://b/r/a.csv", "outputs/o0/0.csv", "file"),
        "outputs.o0[1]": ("s3://b/r/noext", "outputs/o0/1", "file"),
        "outputs.o1['../up']": ("s3://b/r/d/", "outputs/o1/_up", "folder"),
        "outputs.o1['ok']": ("s3://b/r/df", "outputs/o1/ok", "dataset"),
    }
    assert stored_values(io, ["outputs"], tmp_path)[0].label == "outputs.o0[0]"


def test_relative_paths_below_a_folder_in_a_bucket_or_on_disk():
    assert _relative("s3://b/run/d/sub/x.bin", "s3://b/run/d") == "sub/x.bin"
    assert _relative("s3://b/run/d/x.bin", "s3://b/run/d/") == "x.bin"
    assert _relative("/srv/blobs/d/x.bin", "file:///srv/blobs/d") == "x.bin"
    with pytest.raises(DownloadError, match="is not inside"):
        _relative("s3://b/other/x.bin", "s3://b/run/d")
    with pytest.raises(DownloadError, match="is not inside"):
        _relative("s3://b/run/d/../x.bin", "s3://b/run/d")


def _no_bar():
    seen: list[tuple[str, int, int]] = []

    @contextmanager
    def transfer(description: str, total: int):
        done = [0]
        yield lambda n: done.__setitem__(0, done[0] + n)
        seen.append((description, total, done[0]))

    return transfer, seen


def test_a_folder_and_a_single_file_dataset_download_whole_and_report_every_byte(tmp_path: Path):
    src = tmp_path / "src"
    (src / "d" / "sub").mkdir(parents=True)
    (src / "d" / "a.txt").write_text("a" * 10)
    (src / "d" / "sub" / "b.bin").write_bytes(b"b" * (3 << 20))  # several 1 MiB chunks
    (src / "frame.parquet").write_bytes(b"PAR1")
    io = {"outputs": {"d": Dir(path=str(src / "d")), "df": DataFrame(uri=str(src / "frame.parquet"))}}
    values = stored_values(io, ["outputs"], tmp_path / "dest")
    check_targets(values, tmp_path / "dest")
    transfer, seen = _no_bar()
    asyncio.run(download_all(values, transfer))
    out = tmp_path / "dest" / "outputs"
    assert (out / "d" / "a.txt").read_text() == "a" * 10
    assert (out / "d" / "sub" / "b.bin").read_bytes() == b"b" * (3 << 20)
    assert (out / "df" / "frame.parquet").read_bytes() == b"PAR1"
    assert seen == [
        ("Downloading outputs.d (2 files)", 10 + (3 << 20), 10 + (3 << 20)),
        ("Downloading outputs.df (1 file)", 4, 4),
    ]
    assert sorted(p.name for p in out.iterdir()) == ["d", "df"]


def test_a_missing_source_fails_naming_it_and_leaves_no_partial_value(tmp_path: Path):
    (tmp_path / "here.csv").write_text("here")
    io = {"outputs": {"o0": File(path=str(tmp_path / "here.csv")), "o1": File(path=str(tmp_path / "gone.csv"))}}
    values = stored_values(io, ["outputs"], tmp_path / "dest")
    transfer, _ = _no_bar()
    with pytest.raises(DownloadError, match=r"outputs\.o1 \(.*gone\.csv\) cannot be read"):
        asyncio.run(download_all(values, transfer))
    # What was downloaded whole stays; nothing of the failed value, no hidden .part folder.
    assert [p.name for p in (tmp_path / "dest" / "outputs").iterdir()] == ["o0.csv"]


def test_an_existing_target_or_a_file_as_the_folder_is_refused_up_front(tmp_path: Path):
    (tmp_path / "dest" / "outputs").mkdir(parents=True)
    (tmp_path / "dest" / "outputs" / "o0.csv").write_text("mine")
    values = stored_values({"outputs": {"o0": File(path="s3://b/x.csv")}}, ["outputs"], tmp_path / "dest")
    with pytest.raises(DownloadError, match=r"o0\.csv exists \(for outputs\.o0\); nothing was downloaded"):
        check_targets(values, tmp_path / "dest")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(DownloadError, match=r"--download .*plain: not a folder"):
        check_targets([], tmp_path / "plain")


def test_a_folder_in_a_bucket_streams_down_in_chunks(tmp_path: Path):
    # A real S3 endpoint (moto on loopback): the remote path reads through flyte.storage streams.
    import flyte.storage as storage

    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        storage.configure(
            storage.S3(
                endpoint=f"http://{host}:{port}",
                access_key_id="k",
                secret_access_key="s",
                region="us-east-1",
                retries=0,
            )
        )
        big = bytes(range(256)) * (12 << 12)  # 12 MiB: several 1 MiB chunks
        io = {"outputs": {"o0": Dir(path="s3://runs/r1/out"), "o1": File(path="s3://runs/r1/one.csv")}}
        values = stored_values(io, ["outputs"], tmp_path / "dest")
        transfer, seen = _no_bar()

        async def scenario() -> None:
            import botocore.session

            botocore.session.get_session().create_client(
                "s3",
                endpoint_url=f"http://{host}:{port}",
                aws_access_key_id="k",
                aws_secret_access_key="s",
                region_name="us-east-1",
            ).create_bucket(Bucket="runs")
            try:
                await storage.put_stream(big, to_path="s3://runs/r1/out/big.bin")
                await storage.put_stream(b"small", to_path="s3://runs/r1/out/sub/small.txt")
                await storage.put_stream(b"one", to_path="s3://runs/r1/one.csv")
                await download_all(values, transfer)
            finally:
                await storage.close_filesystems()

        asyncio.run(scenario())
        out = tmp_path / "dest" / "outputs"
        assert (out / "o0" / "big.bin").read_bytes() == big
        assert (out / "o0" / "sub" / "small.txt").read_bytes() == b"small"
        assert (out / "o1.csv").read_bytes() == b"one"
        assert seen == [
            ("Downloading outputs.o0 (2 files)", len(big) + 5, len(big) + 5),
            ("Downloading outputs.o1 (3 B)", 3, 3),
        ]
    finally:
        storage.configure()
        server.stop()
