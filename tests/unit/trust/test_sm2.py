"""The sm2-sm3 suite: OpenSSL's SM2 with SM3 over the default identity, as other SM2 software
signs and verifies it (the openssl command line, gmssl, the published GM/T 0003.5 example)."""

from __future__ import annotations

import base64
import shutil
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from casesync.trust import openssl_sm2
from casesync.trust.errors import BadSignature, KeyFileError, OpenSSLError, SuiteUnavailable
from casesync.trust.headers import parse_signature
from casesync.trust.keys import load_signing_key, new_signing_key, write_signing_key
from casesync.trust.signing import sign_batch
from casesync.trust.suites import SM2_SM3, suite_named

from .conftest import NOW, RUDONG, TONGXIANG, Federation, record_facts


@pytest.fixture(autouse=True)
def _sm2_here() -> None:
    """This libcrypto must offer SM2 (Debian's OpenSSL 3 does): without it, fail and say why."""
    if openssl_sm2.UNAVAILABLE_REASON is not None:
        pytest.fail(f"SM2 is unavailable: {openssl_sm2.UNAVAILABLE_REASON}")


# The SM2 recommended curve (GB/T 32918.5), for deriving a public key without OpenSSL.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)
MESSAGE = b"casesync-batch-v1\nsm2-sm3\x00key\x00123\x00root"


def _add(p: tuple[int, int] | None, q: tuple[int, int] | None) -> tuple[int, int] | None:
    if p is None or q is None:
        return p or q
    if p[0] == q[0] and (p[1] + q[1]) % P == 0:
        return None
    if p == q:
        slope = (3 * p[0] * p[0] + A) * pow(2 * p[1], -1, P) % P
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, P) % P
    x = (slope * slope - p[0] - q[0]) % P
    return x, (slope * (p[0] - x) - p[1]) % P


def public_point(private: int) -> bytes:
    """``04 || x || y`` of ``private`` times the base point (slow, plain arithmetic)."""
    result, addend = None, G
    while private:
        if private & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        private >>= 1
    assert result is not None
    return b"\x04" + result[0].to_bytes(32, "big") + result[1].to_bytes(32, "big")


def der_signature(r: int, s: int) -> bytes:
    """GM/T 0009's SEQUENCE of two INTEGERs (short lengths: r and s are 32 bytes)."""

    def integer(value: int) -> bytes:
        body = value.to_bytes(33, "big").lstrip(b"\x00")
        body = b"\x00" + body if body[0] & 0x80 else body
        return bytes([0x02, len(body)]) + body

    content = integer(r) + integer(s)
    return bytes([0x30, len(content)]) + content


def der_values(signature: bytes) -> tuple[int, int]:
    """r and s of a DER signature."""
    assert signature[0] == 0x30
    r_length = signature[3]
    r = int.from_bytes(signature[4 : 4 + r_length], "big")
    s_start = 4 + r_length
    assert signature[s_start] == 0x02
    return r, int.from_bytes(signature[s_start + 2 : s_start + 2 + signature[s_start + 1]], "big")


def test_a_signature_verifies_and_any_change_does_not() -> None:
    """Signed with a fresh key it verifies; another message, another key or garbage does not."""
    private = openssl_sm2.generate()
    public = openssl_sm2.load_public(private.public_bytes())
    signature = private.sign(MESSAGE)
    assert 68 <= len(signature) <= openssl_sm2.MAX_SIGNATURE_SIZE
    assert public.verify(signature, MESSAGE)
    assert not public.verify(signature, MESSAGE + b"x")
    assert not openssl_sm2.generate().public_key().verify(signature, MESSAGE)
    assert not public.verify(b"\x30\x02\x00", MESSAGE)
    assert not public.verify(b"", MESSAGE)
    assert private.sign(MESSAGE) != signature  # a fresh nonce each time


@pytest.mark.parametrize(
    "raw",
    [b"\x04" + bytes(64), b"\x02" + bytes(32), bytes(65), b"\x04" + b"\xff" * 64, b""],
    ids=["not-on-curve", "compressed", "no-prefix", "too-large", "empty"],
)
def test_a_public_key_that_is_no_point_on_the_curve_is_a_value_error(raw: bytes) -> None:
    """Malformed public keys are refused at import, the way the manifest expects (ValueError)."""
    with pytest.raises(ValueError, match="SM2"):
        openssl_sm2.load_public(raw)


def test_the_published_gmt_0003_5_example_verifies() -> None:
    """GM/T 0003.5-2012 Annex A (as in OpenSSL's sm2_internal_test): private key 3945208F...,
    message "message digest", default identity; its (r, s) verifies, with s changed it does not."""
    public = openssl_sm2.load_public(
        public_point(0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8)
    )
    r = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
    s = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
    assert public.verify(der_signature(r, s), b"message digest")
    assert not public.verify(der_signature(r, s + 1), b"message digest")


def test_the_exported_public_key_is_the_private_keys_point() -> None:
    """The 65 bytes exported are the point the private scalar gives (checked without OpenSSL)."""
    key = openssl_sm2.generate()
    pem = key.pkcs8_pem()
    # The scalar sits in the PKCS#8 body after "04 20" (OCTET STRING of 32 bytes).
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    scalar = der[der.index(b"\x04\x20") + 2 :][:32]
    assert public_point(int.from_bytes(scalar, "big")) == key.public_bytes()


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command line is missing: `apt-get install -y openssl`")
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, timeout=30)


def test_the_openssl_command_line_verifies_ours_and_we_verify_its(tmp_path: Path) -> None:
    """Our key file and signature verify with `openssl pkeyutl -digest sm3 -pkeyopt
    distid:1234567812345678`, and not without the identity (OpenSSL 3.0's default is empty); a
    signature the command line makes with our key file verifies here."""
    key = new_signing_key(RUDONG, SM2_SM3)
    key_file = write_signing_key(key, tmp_path)
    (tmp_path / "message").write_bytes(MESSAGE)
    (tmp_path / "ours.sig").write_bytes(key.sign(MESSAGE))
    public_pem = tmp_path / "public.pem"
    assert _openssl("pkey", "-in", key_file, "-pubout", "-out", public_pem).returncode == 0
    verify = ["pkeyutl", "-verify", "-pubin", "-inkey", public_pem, "-rawin", "-digest", "sm3"]
    verify += ["-in", tmp_path / "message", "-sigfile", tmp_path / "ours.sig"]
    done = _openssl(*verify, "-pkeyopt", "distid:1234567812345678")
    assert done.returncode == 0, done.stderr
    assert b"Signature Verified Successfully" in done.stdout
    assert _openssl(*verify).returncode != 0  # the identity is part of what was signed

    sign = ["pkeyutl", "-sign", "-inkey", key_file, "-rawin", "-digest", "sm3"]
    sign += ["-pkeyopt", "distid:1234567812345678", "-in", tmp_path / "message"]
    done = _openssl(*sign, "-out", tmp_path / "theirs.sig")
    assert done.returncode == 0, done.stderr
    theirs = (tmp_path / "theirs.sig").read_bytes()
    assert suite_named(SM2_SM3).verify(
        suite_named(SM2_SM3).load_public(key.public_key), theirs, MESSAGE
    )


def test_a_key_made_by_the_openssl_command_line_loads_as_an_sm2_key(tmp_path: Path) -> None:
    """`openssl genpkey -algorithm SM2` writes a key file that loads as an sm2-sm3 signing key."""
    path = tmp_path / f"{RUDONG}-x.pem"
    assert _openssl("genpkey", "-algorithm", "SM2", "-out", path).returncode == 0
    key = load_signing_key(path, RUDONG)
    assert key.suite == SM2_SM3
    assert len(key.public_key) == 65


def test_gmssl_verifies_ours_and_we_verify_its() -> None:
    """The pure-Python gmssl package (default identity, SM3) and OpenSSL agree both ways."""
    from gmssl import sm2 as gmssl_sm2  # a test dependency only: its nonces are not for signing

    ours = openssl_sm2.generate()
    while ours.public_bytes()[1:].hex().startswith("04"):  # gmssl strips a leading "04..."
        ours = openssl_sm2.generate()
    checker = gmssl_sm2.CryptSM2(private_key=None, public_key=ours.public_bytes()[1:].hex())
    r, s = der_values(ours.sign(MESSAGE))
    assert checker.verify_with_sm3(f"{r:064x}{s:064x}", MESSAGE)

    private = 0x1649AB77A00637BD5E2EFE283FBF353534AA7F7CB89463F208DDBC2920BB0DA0
    public = public_point(private)
    signer = gmssl_sm2.CryptSM2(private_key=f"{private:064x}", public_key=public[1:].hex())
    theirs = signer.sign_with_sm3(MESSAGE)
    r, s = int(theirs[:64], 16), int(theirs[64:], 16)
    assert openssl_sm2.load_public(public).verify(der_signature(r, s), MESSAGE)


def test_an_sm2_key_file_is_private_and_loads_back_as_the_same_sm2_key(tmp_path: Path) -> None:
    """keys: written 0600 as PKCS#8 PEM; loaded back it is the same sm2-sm3 key and signs."""
    key = new_signing_key(RUDONG, SM2_SM3)
    path = write_signing_key(key, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_signing_key(path, RUDONG)
    assert (loaded.suite, loaded.key_id) == (SM2_SM3, key.key_id)
    suite = suite_named(SM2_SM3)
    assert suite.verify(suite.load_public(key.public_key), loaded.sign(MESSAGE), MESSAGE)
    assert "PRIVATE" not in repr(loaded)


def test_an_encrypted_key_file_is_refused_without_a_prompt(tmp_path: Path) -> None:
    """An encrypted PEM key is a KeyFileError, never a passphrase prompt."""
    path = tmp_path / "enc.pem"
    _openssl("genpkey", "-algorithm", "SM2", "-aes256", "-pass", "pass:x", "-out", path)
    with pytest.raises(KeyFileError, match="unencrypted"):
        load_signing_key(path, RUDONG)


def test_a_batch_signed_with_sm2_verifies_record_by_record_on_sm3_trees() -> None:
    """The whole suite: a Rudong sm2-sm3 key in the manifest beside Tongxiang's Ed25519 one, a
    batch of 50 signed once, each record verifies alone; a changed value is a bad signature."""
    federation = Federation()
    federation.keys[RUDONG] = new_signing_key(RUDONG, SM2_SM3)
    facts = record_facts(50)
    signatures = sign_batch(facts, federation.keys[RUDONG], NOW)
    assert parse_signature(signatures[0][1]).suite == b"sm2-sm3"
    for one, signature in zip(facts, signatures, strict=True):
        verified = federation.verifier().verify(one, (signature,), NOW)
        assert (verified.region, verified.key_id) == (RUDONG, federation.keys[RUDONG].key_id)
    changed = facts[3]._replace(value=b"changed")
    with pytest.raises(BadSignature):
        federation.verifier().verify(changed, (signatures[3],), NOW)
    assert federation.keys[TONGXIANG].suite == "ed25519"  # suites mix in one manifest


def test_the_tree_hash_is_sm3() -> None:
    """The suite's tree hash gives GB/T 32905's example A.1 digest of "abc"."""
    assert suite_named(SM2_SM3).new_hash(b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert suite_named(SM2_SM3).new_hash(b"").digest_size == 32


def test_verifications_on_threads_agree() -> None:
    """Four threads verifying with one shared public key all get the right answers."""
    private = openssl_sm2.generate()
    public = private.public_key()
    good = private.sign(MESSAGE)
    wrong: list[str] = []

    def work() -> None:
        for i in range(200):
            if public.verify(good, MESSAGE) is not True:
                wrong.append("good refused")
            if public.verify(good, MESSAGE + bytes([i])) is not False:
                wrong.append("bad accepted")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_an_openssl_failure_is_a_typed_error_with_openssls_reason() -> None:
    """Signing with a key that has no private half fails in OpenSSL: OpenSSLError, with what
    failed and OpenSSL's own reason."""
    public = openssl_sm2.generate().public_key()
    with pytest.raises(OpenSSLError, match=r"SM2 signing.* failed: error:"):
        openssl_sm2.Sm2PrivateKey.sign(public, MESSAGE)  # type: ignore[arg-type]


def test_without_sm2_in_libcrypto_the_suite_is_refused_with_the_reason() -> None:
    """When libcrypto cannot be loaded or lacks SM2, the reason is plain and sm2-sm3 is a
    SuiteUnavailable naming it."""

    def missing() -> None:
        raise OSError("libcrypto.so.3: cannot open shared object file")

    lib, reason = openssl_sm2._why_unusable(missing)
    assert lib is None
    assert reason is not None
    assert "libcrypto" in reason
    with pytest.raises(SuiteUnavailable, match="unknown suite"):
        suite_named("sm9")
