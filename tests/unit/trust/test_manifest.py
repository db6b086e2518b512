"""The federation manifest and its holder: only a fresh, root-signed, newer manifest is taken."""

from __future__ import annotations

import base64
import json

import pytest

from casesync.trust.errors import (
    ManifestBadlySigned,
    ManifestExpired,
    ManifestMalformed,
    ManifestOlderThanHeld,
    NoTrustedManifest,
    UnknownKey,
)
from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import key_id_of, new_signing_key
from casesync.trust.manifest import (
    entry_document,
    parse_entry,
    parse_signed_manifest,
    sign_manifest,
    signed_document,
    successor,
)
from casesync.trust.suites import SM2_SM3

from .conftest import DAY, NOW, RUDONG, TONGXIANG, Federation


def test_a_signed_manifest_survives_json_and_reformatting(federation: Federation) -> None:
    """Written as JSON, re-indented and read back, it still verifies under the pinned root."""
    document = signed_document(federation.signed())
    text = json.dumps(json.loads(json.dumps(document)), indent=4, sort_keys=False)
    holder = ManifestHolder(federation.root_public)
    assert holder.offer(parse_signed_manifest(json.loads(text)), NOW).version == 1


def test_a_changed_value_or_another_root_is_badly_signed(federation: Federation) -> None:
    """Moving a key's window after signing, or signing with another root, is refused."""
    document = signed_document(federation.signed())
    document["keys"][0]["valid_until"] = "2099-01-01T00:00:00Z"
    holder = ManifestHolder(federation.root_public)
    with pytest.raises(ManifestBadlySigned):
        holder.offer(parse_signed_manifest(document), NOW)
    with pytest.raises(ManifestBadlySigned):
        holder.offer(sign_manifest(federation.manifest(), new_signing_key("root")), NOW)
    unsigned = signed_document(federation.signed())
    del unsigned["signature"]
    with pytest.raises(ManifestBadlySigned):
        parse_signed_manifest(unsigned)


def test_older_and_expired_manifests_are_refused_and_the_held_one_kept(
    federation: Federation,
) -> None:
    """Version 2 held: version 1, a different version 2 and an expired version 3 are refused,
    the same version 2 again changes nothing, and version 2 stays in force until it expires."""
    holder = federation.holder(federation.manifest(version=2))
    with pytest.raises(ManifestOlderThanHeld):
        holder.offer(federation.signed(federation.manifest(version=1)), NOW)
    with pytest.raises(ManifestOlderThanHeld):
        holder.offer(federation.signed(federation.manifest(version=2, entries=[])), NOW)
    expired = federation.manifest(version=3, expires_at=NOW - 1 * DAY / 24)
    with pytest.raises(ManifestExpired):
        holder.offer(federation.signed(expired), NOW)
    assert holder.offer(federation.signed(federation.manifest(version=2)), NOW).version == 2
    assert holder.current(NOW + 29 * DAY).version == 2
    with pytest.raises(NoTrustedManifest):
        holder.current(NOW + 30 * DAY)


def test_without_any_manifest_nothing_is_trusted(federation: Federation) -> None:
    """A fresh holder answers NoTrustedManifest, retriable: the consumer waits."""
    holder = ManifestHolder(federation.root_public)
    with pytest.raises(NoTrustedManifest) as waiting:
        holder.entry("0" * 16, NOW)
    assert waiting.value.retriable


def test_key_valid_honours_region_window_and_revocation(federation: Federation) -> None:
    """A key is valid for its own region inside its window, and not from its revocation on."""
    rudong = federation.keys[RUDONG].key_id
    revoked = successor(federation.manifest(), NOW, 30 * DAY, revoke={rudong: NOW})
    holder = federation.holder(revoked)
    assert holder.key_valid(rudong, RUDONG, NOW - DAY, now=NOW)
    assert not holder.key_valid(rudong, RUDONG, NOW, now=NOW)
    assert not holder.key_valid(rudong, TONGXIANG, NOW - DAY, now=NOW)
    assert not holder.key_valid(rudong, RUDONG, NOW - 31 * DAY, now=NOW)
    assert not holder.key_valid("0" * 16, RUDONG, NOW - DAY, now=NOW)
    with pytest.raises(UnknownKey):
        holder.entry("0" * 16, NOW)


def test_successor_counts_versions_and_adds_keys(federation: Federation) -> None:
    """The next manifest is one version up and lists the old keys plus the new one."""
    newer = new_signing_key(RUDONG).entry(NOW + DAY, NOW + 400 * DAY)
    following = successor(federation.manifest(version=4), NOW, 30 * DAY, add=[newer])
    assert following.version == 5
    assert newer.key_id in following.by_id
    assert len(following.keys) == 3


def test_an_entry_whose_id_is_not_its_key_is_malformed(federation: Federation) -> None:
    """The manifest binds each id to its key: a swapped id is refused."""
    document = entry_document(federation.entry(RUDONG))
    document["key_id"] = federation.keys[TONGXIANG].key_id
    with pytest.raises(ManifestMalformed, match="not its public key"):
        parse_entry(document)


def test_an_sm2_entry_whose_key_is_not_on_the_curve_is_malformed(federation: Federation) -> None:
    """A 65-byte SM2 key that is no point of the curve is refused when the manifest is read, not
    at the first record it should verify."""
    off_curve = b"\x04" + b"\x01" * 64
    document = entry_document(federation.entry(RUDONG))
    document.update(suite=SM2_SM3, public_key=base64.b64encode(off_curve).decode(),
                    key_id=key_id_of(SM2_SM3, off_curve))  # fmt: skip
    with pytest.raises(ManifestMalformed, match="not a valid sm2-sm3 public key"):
        parse_entry(document)
