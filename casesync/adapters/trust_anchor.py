"""A process's trust anchor from its settings: the pinned root, the manifest topic, a file.

``CASESYNC_TRUST_ROOT`` pins the root key; manifests come from the manifest topic and, when
``CASESYNC_TRUST_MANIFEST`` names one, a file (read anew at every refresh).
"""

from __future__ import annotations

from pathlib import Path

from casesync.adapters.manifest_topic import KafkaManifestLog
from casesync.adapters.topics import TopicNames
from casesync.errors import ConfigError
from casesync.settings import Settings
from casesync.trust.anchor import ManifestSource, TrustAnchor
from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import parse_root_public


def trust_anchor(settings: Settings, *, topic: bool = True) -> TrustAnchor:
    """The anchor the settings describe (no I/O until started); ConfigError without a root.

    ``topic=False`` reads the file only (work without a broker: replaying a recording).
    """
    if not settings.trust_root:
        raise ConfigError(
            "signing is on but no trust root is pinned: set CASESYNC_TRUST_ROOT "
            "(or CASESYNC_SIGNING=off where the deployment runs unsigned)"
        )
    sources: list[tuple[str, ManifestSource]] = []
    if settings.trust_manifest_file is not None:
        sources.append(("file", _file_source(settings.trust_manifest_file)))
    if topic:
        log = KafkaManifestLog(settings.kafka, TopicNames(settings.topic_prefix).manifest)
        sources.append(("topic", log.read_all))
    if not sources:
        raise ConfigError("no manifest source: set CASESYNC_TRUST_MANIFEST to a manifest file")
    holder = ManifestHolder(parse_root_public(settings.trust_root))
    return TrustAnchor(holder, sources, refresh_s=settings.manifest_refresh_s)


def _file_source(path: Path) -> ManifestSource:
    def read() -> list[bytes]:
        return [path.read_bytes()] if path.exists() else []

    return read
