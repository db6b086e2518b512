"""The relay's signer: the region's keys and the manifest in force choose the key of a batch.

A batch is signed with the region's key that the manifest lists as valid now and whose window
opened last (``choose_signing_key``), so a key announced ahead of time takes over by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from casesync.errors import ConfigError
from casesync.trust.anchor import TrustAnchor
from casesync.trust.errors import NoTrustedManifest
from casesync.trust.headers import Header
from casesync.trust.keys import SigningKey, choose_signing_key
from casesync.trust.signing import sign_leaves
from casesync.trust.tree import LeafFields
from producers.errors import CannotSign


class RelaySigner:
    """Signs the relay's batches as ``region``."""

    def __init__(
        self,
        region: str,
        keys: Sequence[SigningKey],
        anchor: TrustAnchor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.region = region
        self._keys = list(keys)
        self._anchor = anchor
        self._clock = clock

    def check_ready(self) -> None:
        """At start: ConfigError, one line, unless a key of the region is valid now."""
        self._anchor.start()
        try:
            self._key(self._clock())
        except CannotSign as e:
            raise ConfigError(f"relay of {self.region} cannot sign: {e}") from None

    def sign(self, leaves: Sequence[LeafFields]) -> list[Header]:
        """The ``signature`` headers of the records whose leaves' fields are ``leaves``;
        CannotSign (retriable) when no key may sign now."""
        now = self._clock()
        return sign_leaves(leaves, self._key(now), now)

    def _key(self, now: datetime) -> SigningKey:
        try:
            manifest = self._anchor.holder.current(now)
        except NoTrustedManifest as e:
            raise CannotSign(str(e)) from None
        key = choose_signing_key(self._keys, manifest.by_id, now)
        if key is None:
            ids = ", ".join(k.key_id for k in self._keys) or "none"
            raise CannotSign(
                f"manifest version {manifest.version} lists none of its keys ({ids}) as valid now"
            )
        return key
