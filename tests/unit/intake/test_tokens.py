"""Intake tokens: random, stored as a digest, recognised only in their exact shape."""

from __future__ import annotations

import hashlib

import pytest

from casesync.intake import tokens
from casesync.intake.errors import Refused


def test_an_issued_token_names_its_region_and_id_and_is_stored_as_its_sha256() -> None:
    """The token reads cs1.<region>.<id>.<secret>; the digest is SHA-256 of all of it, and the
    secret part appears in neither the digest nor the token's repr."""
    token = tokens.issue("320623")
    prefix, region, token_id, secret = token.secret.split(".")
    assert (prefix, region, token_id) == ("cs1", "320623", token.token_id)
    assert token.digest == hashlib.sha256(token.secret.encode()).digest()
    assert secret not in repr(token)


def test_two_issued_tokens_differ() -> None:
    """Each token is new randomness, its id too."""
    first, second = tokens.issue("320623"), tokens.issue("320623")
    assert first.secret != second.secret
    assert first.token_id != second.token_id


def test_a_bearer_header_gives_back_the_token_that_was_issued() -> None:
    """Presented as ``Bearer <token>``, a token matches the digest stored for it."""
    issued = tokens.issue("330483")
    presented = tokens.from_authorization(f"Bearer {issued.secret}")
    assert (presented.region, presented.token_id) == ("330483", issued.token_id)
    assert tokens.matches(issued.digest, presented)
    assert not tokens.matches(tokens.issue("330483").digest, presented)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer cs1.320623.abc.def",
     "Bearer cs2.320623.0123456789ab." + "a" * 43],
)  # fmt: skip
def test_anything_else_in_authorization_is_refused_as_unauthorized(header: str | None) -> None:
    """No header, another scheme or a token of another shape: UNAUTHORIZED, and the message
    does not repeat what was sent."""
    with pytest.raises(Refused) as caught:
        tokens.from_authorization(header)
    assert caught.value.code == "UNAUTHORIZED"
    sent = (header or "").split()[1:]
    assert not any(part in caught.value.message for part in sent)
