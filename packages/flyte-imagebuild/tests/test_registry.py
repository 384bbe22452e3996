"""The registry existence check speaks the Registry HTTP API to a real registry."""

from __future__ import annotations

import pytest

from flyte.imagebuild._registry import RegistryRef, RegistryUnreachableError, registry_has_tag


def test_a_repository_the_registry_never_saw_has_no_tag(registry: str):
    assert registry_has_tag(f"{registry}/never/pushed:abc") is False


def test_loopback_registries_are_plain_http_and_others_https():
    assert RegistryRef.parse("127.0.0.1:5000/a:b").base_url == "http://127.0.0.1:5000"
    assert RegistryRef.parse("localhost:5000/a:b").base_url == "http://localhost:5000"
    assert RegistryRef.parse("ghcr.io/org/a:b").base_url == "https://ghcr.io"


def test_an_unreachable_registry_is_an_error_not_a_miss():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RegistryUnreachableError, match=f"127.0.0.1:{port}"):
        registry_has_tag(f"127.0.0.1:{port}/a:b")
