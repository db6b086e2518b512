"""Bearer tokens of the HTTP intake: ``cs1.<region>.<token id>.<secret>``.

The secret is 256 random bits, so a plain SHA-256 of the token is a safe digest to store (a slow
password hash guards guessable secrets; these are not). The region and id travel in the clear:
the server knows which region's database to look in, and people can name a token to revoke it
without ever seeing it again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from casesync.intake.errors import Refused

PREFIX = "cs1"
_SHAPE = re.compile(r"cs1\.(\d{6})\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class Token:
    """A token as presented (or just issued): whose it is, its id, its digest."""

    region: str
    token_id: str
    digest: bytes
    secret: str = field(repr=False)  # the whole token: shown once, never stored or logged


def digest_of(token: str) -> bytes:
    """What the database stores of a token."""
    return hashlib.sha256(token.encode()).digest()


def issue(region: str) -> Token:
    """A new random token of ``region``."""
    token_id = secrets.token_hex(6)
    text = f"{PREFIX}.{region}.{token_id}.{secrets.token_urlsafe(32)}"
    return Token(region, token_id, digest_of(text), text)


def from_authorization(header: str | None) -> Token:
    """The token of an ``Authorization: Bearer …`` header; Refused (UNAUTHORIZED) when there is
    none or it is not shaped like one (the message never repeats it)."""
    scheme, _, text = (header or "").strip().partition(" ")
    match = _SHAPE.fullmatch(text.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise Refused("UNAUTHORIZED", "an Authorization: Bearer header with an intake token "
                      "is required")  # fmt: skip
    return Token(match[1], match[2], digest_of(text.strip()), text.strip())


def matches(stored_digest: bytes, presented: Token) -> bool:
    """Whether a presented token is the one stored (in constant time)."""
    return hmac.compare_digest(stored_digest, presented.digest)
