"""Upload URL signatures: bound to method, path, expiry and MD5; the key stays private."""

from __future__ import annotations

from pathlib import Path

from flyte.server._signing import SignedRequest, UrlSigner, load_or_create_key

REQUEST = SignedRequest("PUT", "/upload/_/p/d/root/file.bin", expires=2_000_000_000, content_md5="ab" * 16)


def test_the_key_is_created_once_with_owner_only_access(tmp_path: Path):
    key = load_or_create_key(tmp_path / "signing.key")
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(tmp_path / "signing.key") == key
    assert len(key) == 32


def test_a_signature_verifies_until_it_expires(tmp_path: Path):
    signer = UrlSigner(load_or_create_key(tmp_path / "k"))
    signature = signer.sign(REQUEST)
    assert signer.verify(REQUEST, signature, now=REQUEST.expires - 1) is None
    assert signer.verify(REQUEST, signature, now=REQUEST.expires + 1) == "the URL has expired"


def test_changing_any_signed_part_breaks_the_signature(tmp_path: Path):
    signer = UrlSigner(load_or_create_key(tmp_path / "k"))
    signature = signer.sign(REQUEST)
    for changed in (
        SignedRequest("GET", REQUEST.path, REQUEST.expires, REQUEST.content_md5),
        SignedRequest(REQUEST.method, REQUEST.path + "x", REQUEST.expires, REQUEST.content_md5),
        SignedRequest(REQUEST.method, REQUEST.path, REQUEST.expires + 1, REQUEST.content_md5),
        SignedRequest(REQUEST.method, REQUEST.path, REQUEST.expires, ""),
    ):
        assert signer.verify(changed, signature, now=0) == "the signature does not match"


def test_another_key_does_not_verify(tmp_path: Path):
    one = UrlSigner(load_or_create_key(tmp_path / "one"))
    other = UrlSigner(load_or_create_key(tmp_path / "other"))
    assert other.verify(REQUEST, one.sign(REQUEST), now=0) == "the signature does not match"
