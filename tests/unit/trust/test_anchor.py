"""The trust anchor's refresh: what it holds after reading its sources, and why it refused."""

from __future__ import annotations

import json
from datetime import timedelta

from casesync.trust.anchor import TrustAnchor
from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import new_signing_key
from casesync.trust.manifest import SignedManifest, sign_manifest, signed_document

from .conftest import NOW, Federation


def _document(signed: SignedManifest) -> bytes:
    return json.dumps(signed_document(signed)).encode()


def test_refused_documents_are_told_by_source_and_forgotten_at_the_next_refresh(
    federation: Federation,
) -> None:
    """An expired manifest from one source and one signed by another root from a second leave
    nothing in force, and ``refusals`` says why per source; once the sources hold a good
    manifest, a refresh holds it and the refusals are gone."""
    expired = federation.signed(federation.manifest(version=3, expires_at=NOW - timedelta(hours=1)))
    stranger = sign_manifest(federation.manifest(version=4), new_signing_key("root"))
    documents = {"file": [_document(expired)], "topic": [_document(stranger)]}
    anchor = TrustAnchor(
        ManifestHolder(federation.root_public),
        [(name, lambda name=name: documents[name]) for name in documents],
        clock=lambda: NOW,
    )
    assert anchor.refresh() is None
    assert anchor.refusals["file"].startswith("manifest version 3 expired at")
    assert "not signed by the pinned root key" in anchor.refusals["topic"]

    documents["file"] = [_document(federation.signed(federation.manifest(version=5)))]
    documents["topic"] = []
    held = anchor.refresh()
    assert held is not None
    assert held.version == 5
    assert anchor.refusals == {}
