"""A manifest holder kept fed: its sources read at start, then again every ``refresh_s``.

Sources are callables returning signed manifest documents (JSON bytes): the manifest topic, a
file. Each document is offered to the ``ManifestHolder``; the newest valid one wins. A source
that fails, or a document refused, changes nothing: the last good manifest stays in force until
it expires. While none is in force the sources are read every ``retry_s``, so a consumer that
waits for one resumes soon after it is published.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog

from casesync.trust.errors import ManifestError, ManifestOlderThanHeld, NoTrustedManifest
from casesync.trust.holder import ManifestHolder
from casesync.trust.manifest import Manifest, parse_signed_manifest

log = structlog.get_logger(__name__)

ManifestSource = Callable[[], Sequence[bytes]]


class TrustAnchor:
    """The manifest in force for one process, refreshed in a background thread."""

    def __init__(
        self,
        holder: ManifestHolder,
        sources: Sequence[tuple[str, ManifestSource]],
        refresh_s: float = 30.0,
        retry_s: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.holder = holder
        self._sources = tuple(sources)
        self._refresh_s = refresh_s
        self._retry_s = retry_s
        self._clock = clock
        self._told: set[tuple[str, int, str]] = set()  # refusals logged once each
        # Why the last refresh refused each source's documents: a status display that finds no
        # manifest in force can say why (expired, badly signed) instead of only that.
        self.refusals: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Read the sources now, then keep watching them (idempotent)."""
        if self._started:  # called per record: no lock once started
            return
        with self._lock:
            if self._thread is not None:
                return
            self.refresh()
            self._thread = threading.Thread(
                target=self._watch, name="casesync-manifest", daemon=True
            )
            self._thread.start()
            self._started = True

    def stop(self) -> None:
        """Stop watching (the manifest held stays held)."""
        self._stop.set()

    def current(self) -> Manifest:
        """The manifest in force now; NoTrustedManifest when none is."""
        return self.holder.current(self._clock())

    def refresh(self) -> Manifest | None:
        """Offer every document of every source; the manifest held after (None when none)."""
        self.refusals = {}
        for name, source in self._sources:
            try:
                documents = source()
            except Exception as e:  # noqa: BLE001 - a source away must not end the watch
                log.warning("manifest source unreadable; the held manifest stays",
                            source=name, error=type(e).__name__)  # fmt: skip
                continue
            for document in documents:
                self._offer(name, document)
        return self.holder.held

    def _offer(self, source: str, document: bytes) -> None:
        try:
            signed = parse_signed_manifest(json.loads(document))
        except (ValueError, ManifestError) as e:
            self._tell(source, 0, e)
            return
        before = self.holder.held
        try:
            manifest = self.holder.offer(signed, self._clock())
        except ManifestOlderThanHeld:
            return  # an older version still in the log: expected until compaction
        except ManifestError as e:
            self._tell(source, signed.manifest.version, e)
            return
        if manifest is not before:
            expires = manifest.expires_at.isoformat()
            log.info("manifest in force", source=source, version=manifest.version,
                     expires_at=expires, keys=len(manifest.keys))  # fmt: skip

    def _tell(self, source: str, version: int, error: Exception) -> None:
        self.refusals[source] = str(error)
        told = (source, version, type(error).__name__)
        if told not in self._told:
            self._told.add(told)
            log.warning("manifest refused", source=source, version=version,
                        error=type(error).__name__, reason=str(error))  # fmt: skip

    def _watch(self) -> None:
        while not self._stop.wait(self._wait_s()):
            self.refresh()

    def _wait_s(self) -> float:
        try:
            self.current()
        except NoTrustedManifest:
            return self._retry_s
        return self._refresh_s
