"""Backend configuration from arguments and from the environment."""

from __future__ import annotations

import pytest

import flyte.storage as storage
from flyte.storage._config import config_for


def test_s3_auto_reads_the_flyte_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_AWS_ENDPOINT", "http://127.0.0.1:9000")
    monkeypatch.setenv("FLYTE_AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("FLYTE_AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("FLYTE_AWS_S3_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("FLYTE_STORAGE_RETRIES", "7")
    s3 = storage.S3.auto(region="eu-west-1")
    assert (s3.endpoint, s3.access_key_id, s3.secret_access_key) == ("http://127.0.0.1:9000", "id", "secret")
    assert (s3.region, s3.addressing_style, s3.retries) == ("eu-west-1", "path", 7)
    kwargs = s3.fsspec_kwargs()
    assert kwargs["endpoint_url"] == "http://127.0.0.1:9000"
    assert (kwargs["key"], kwargs["secret"]) == ("id", "secret")
    assert kwargs["client_kwargs"] == {"region_name": "eu-west-1"}
    assert kwargs["config_kwargs"]["s3"] == {"addressing_style": "path"}


def test_abfs_auto_reads_the_azure_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AZURE_STORAGE_ACCOUNT_NAME": "acct",
        "AZURE_STORAGE_ACCOUNT_KEY": "key",
        "AZURE_TENANT_ID": "tenant",
        "AZURE_CLIENT_ID": "client",
        "AZURE_CLIENT_SECRET": "shh",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    abfs = storage.ABFS.auto()
    assert abfs.fsspec_kwargs() == {
        "account_name": "acct",
        "account_key": "key",
        "tenant_id": "tenant",
        "client_id": "client",
        "client_secret": "shh",
    }


def test_gcs_auto_reads_the_google_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:1234")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    assert storage.GCS.auto().fsspec_kwargs() == {"project": "proj", "endpoint_url": "http://127.0.0.1:1234"}


@pytest.mark.parametrize("value", ["three", "-1", "1.5"])
def test_a_bad_retry_count_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FLYTE_STORAGE_RETRIES", value)
    with pytest.raises(storage.StorageConfigError, match="FLYTE_STORAGE_RETRIES: expected an integer >= 0"):
        storage.S3.auto()


def test_bad_settings_are_refused_at_construction() -> None:
    with pytest.raises(storage.StorageConfigError, match="addressing_style"):
        storage.S3(addressing_style="sideways")
    with pytest.raises(storage.StorageConfigError, match="part_size"):
        storage.S3(part_size=1024)
    with pytest.raises(storage.StorageConfigError, match="retries"):
        storage.Storage(retries=-1)


def test_configure_replaces_the_settings_and_falls_back_to_the_environment() -> None:
    s3 = storage.S3(endpoint="http://127.0.0.1:1", retries=9)
    try:
        storage.configure(s3)
        assert config_for("s3") is s3
        storage.configure()
        assert config_for("s3").endpoint != "http://127.0.0.1:1"
    finally:
        storage.configure()


def test_configure_refuses_two_configs_for_one_backend() -> None:
    with pytest.raises(storage.StorageConfigError, match="given twice"):
        storage.configure(storage.S3(), storage.S3(retries=1))


@pytest.mark.asyncio(loop_scope="session")
async def test_put_without_destination_needs_a_raw_data_path(tmp_path: object) -> None:
    storage.configure()
    with pytest.raises(storage.StorageConfigError, match="raw data path"):
        await storage.put_stream(b"x", name="f.txt")


@pytest.mark.asyncio(loop_scope="session")
async def test_put_without_destination_uploads_under_the_raw_data_path(tmp_path: object) -> None:
    try:
        storage.configure(raw_data_path=str(tmp_path))
        uri = await storage.put_stream(b"x", name="f.txt")
        assert uri.startswith(str(tmp_path))
        assert uri.endswith("f.txt")
        assert await storage.exists(uri)
    finally:
        storage.configure()
