"""SM2 signatures with SM3 (GB/T 32918.2, GM/T 0009) through OpenSSL 3's libcrypto, by ctypes.

OpenSSL does the cryptography (key generation, nonces, the curve arithmetic, the Z digest over
the signer's identity); this module only passes bytes in and out of its EVP interface. Every
OpenSSL object it makes is freed before the call that made it returns, except the keys, which
are freed when their Python object goes. Every return code is checked; a failure raises
``OpenSSLError`` with OpenSSL's own error strings (which never quote key material).

Keys are read-only once made, and each signature or verification gets its own digest context,
so keys may be shared between threads (OpenSSL 3 keeps its error queue per thread). ctypes
releases the GIL around each call, so verifications on threads run in parallel.

Signatures are the DER ``SEQUENCE { r INTEGER, s INTEGER }`` of GM/T 0009 (70 to 72 bytes),
computed over SM3(Z || message) with Z taken over the default identity ``1234567812345678``
that GM/T 0009 names and other SM2 implementations assume. OpenSSL 3.0 itself defaults to an
empty identity, so the identity is always set here, and the command line must be told it
(``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``).
Public keys are the uncompressed point ``04 || x || y`` (65 bytes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Any

from casesync.trust.errors import OpenSSLError

DEFAULT_ID = b"1234567812345678"  # GM/T 0009-2012 section 10: the signer's default identity
PUBLIC_KEY_SIZE = 65
MAX_SIGNATURE_SIZE = 72

_UNCOMPRESSED = 0x04
_PARAM_UTF8_STRING = 4  # OSSL_PARAM data types (openssl/core.h)
_PARAM_OCTET_STRING = 5
_SELECT_PUBLIC_KEY = 0x86  # EVP_PKEY_PUBLIC_KEY: all domain parameters and the public key
_BIO_CTRL_INFO = 3  # BIO_get_mem_data
_PEM_PRIVATE = b"-----BEGIN PRIVATE KEY-----"

_c_void_p = ctypes.c_void_p
_c_char_p = ctypes.c_char_p
_c_int = ctypes.c_int
_c_size_t = ctypes.c_size_t


class _Param(ctypes.Structure):
    """``OSSL_PARAM`` (openssl/core.h); an array of them ends with one whose key is NULL."""

    _fields_ = (
        ("key", _c_char_p),
        ("data_type", ctypes.c_uint),
        ("data", _c_void_p),
        ("data_size", _c_size_t),
        ("return_size", _c_size_t),
    )


_SIGNATURES = {
    # name: (result, argument types)
    "OpenSSL_version_num": (ctypes.c_ulong, ()),
    "ERR_get_error": (ctypes.c_ulong, ()),
    "ERR_error_string_n": (None, (ctypes.c_ulong, _c_char_p, _c_size_t)),
    "ERR_clear_error": (None, ()),
    "EVP_MD_fetch": (_c_void_p, (_c_void_p, _c_char_p, _c_char_p)),
    "EVP_MD_free": (None, (_c_void_p,)),
    "EVP_SIGNATURE_fetch": (_c_void_p, (_c_void_p, _c_char_p, _c_char_p)),
    "EVP_SIGNATURE_free": (None, (_c_void_p,)),
    "EVP_PKEY_CTX_new_from_name": (_c_void_p, (_c_void_p, _c_char_p, _c_char_p)),
    "EVP_PKEY_CTX_free": (None, (_c_void_p,)),
    "EVP_PKEY_keygen_init": (_c_int, (_c_void_p,)),
    "EVP_PKEY_generate": (_c_int, (_c_void_p, ctypes.POINTER(_c_void_p))),
    "EVP_PKEY_fromdata_init": (_c_int, (_c_void_p,)),
    "EVP_PKEY_fromdata": (_c_int, (_c_void_p, ctypes.POINTER(_c_void_p), _c_int, _c_void_p)),
    "EVP_PKEY_get_octet_string_param": (
        _c_int,
        (_c_void_p, _c_char_p, _c_char_p, _c_size_t, ctypes.POINTER(_c_size_t)),
    ),
    "EVP_PKEY_is_a": (_c_int, (_c_void_p, _c_char_p)),
    "EVP_PKEY_free": (None, (_c_void_p,)),
    "EVP_MD_CTX_new": (_c_void_p, ()),
    "EVP_MD_CTX_free": (None, (_c_void_p,)),
    "EVP_DigestSignInit_ex": (
        _c_int,
        (_c_void_p, _c_void_p, _c_char_p, _c_void_p, _c_char_p, _c_void_p, _c_void_p),
    ),
    "EVP_DigestSign": (
        _c_int,
        (_c_void_p, _c_char_p, ctypes.POINTER(_c_size_t), _c_char_p, _c_size_t),
    ),
    "EVP_DigestVerifyInit_ex": (
        _c_int,
        (_c_void_p, _c_void_p, _c_char_p, _c_void_p, _c_char_p, _c_void_p, _c_void_p),
    ),
    "EVP_PKEY_CTX_set1_id": (_c_int, (_c_void_p, _c_char_p, _c_int)),
    "EVP_DigestVerify": (_c_int, (_c_void_p, _c_char_p, _c_size_t, _c_char_p, _c_size_t)),
    "BIO_s_mem": (_c_void_p, ()),
    "BIO_new": (_c_void_p, (_c_void_p,)),
    "BIO_new_mem_buf": (_c_void_p, (_c_char_p, _c_int)),
    "BIO_ctrl": (ctypes.c_long, (_c_void_p, _c_int, ctypes.c_long, _c_void_p)),
    "BIO_free": (_c_int, (_c_void_p,)),
    "PEM_write_bio_PrivateKey": (
        _c_int,
        (_c_void_p, _c_void_p, _c_void_p, _c_char_p, _c_int, _c_void_p, _c_void_p),
    ),
    "PEM_read_bio_PrivateKey": (_c_void_p, (_c_void_p, _c_void_p, _c_void_p, _c_char_p)),
}


def _load_libcrypto() -> Any:
    """libcrypto with the functions this module calls typed; raises OSError/AttributeError."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
    for name, (result, arguments) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.restype = result
        function.argtypes = arguments
    return lib


def _why_unusable(load: Callable[[], Any] = _load_libcrypto) -> tuple[Any, str | None]:
    """libcrypto and None when it signs SM2 with SM3; else None and why not."""
    try:
        lib = load()
    except (OSError, AttributeError) as e:
        return None, f"no OpenSSL 3 libcrypto with the EVP interface here ({e})"
    if lib.OpenSSL_version_num() < 0x30000000:
        return None, "libcrypto is older than OpenSSL 3"
    for fetch, free, what in (
        (lib.EVP_MD_fetch, lib.EVP_MD_free, b"SM3"),
        (lib.EVP_SIGNATURE_fetch, lib.EVP_SIGNATURE_free, b"SM2"),
    ):
        algorithm = fetch(None, what, None)
        if not algorithm:
            lib.ERR_clear_error()
            return None, f"libcrypto's providers offer no {what.decode()} (built without it?)"
        free(algorithm)
    return lib, None


_lib, UNAVAILABLE_REASON = _why_unusable()


def _raise(what: str) -> None:
    """Raise OpenSSLError for ``what`` with the thread's OpenSSL error queue, emptying it."""
    reasons = []
    buffer = ctypes.create_string_buffer(256)
    while code := _lib.ERR_get_error():
        _lib.ERR_error_string_n(code, buffer, len(buffer))
        reasons.append(buffer.value.decode("ascii", "replace"))
    raise OpenSSLError(f"{what} failed: {'; '.join(reasons) or 'no reason given by OpenSSL'}")


def _params(*entries: tuple[bytes, int, bytes]) -> tuple[ctypes.Array[_Param], list[Any]]:
    """An OSSL_PARAM array of (name, type, data), and the buffers it points into (keep them)."""
    array = (_Param * (len(entries) + 1))()
    buffers = []
    for slot, (name, data_type, data) in zip(array, entries, strict=False):
        buffer = ctypes.create_string_buffer(data, len(data))
        buffers.append(buffer)
        slot.key, slot.data_type = name, data_type
        slot.data, slot.data_size = ctypes.cast(buffer, _c_void_p), len(data)  # utf8: no NUL
        slot.return_size = _c_size_t(-1).value  # OSSL_PARAM_UNMODIFIED
    return array, buffers


def _digest_context(init: Any, pointer: int, what: str) -> int:
    """A digest context set up by ``init`` (EVP_DigestSignInit_ex or EVP_DigestVerifyInit_ex)
    for SM2 with SM3 over the default identity; the caller frees it."""
    context = _lib.EVP_MD_CTX_new()
    if not context:
        _raise("EVP_MD_CTX_new")
    key_context = _c_void_p()  # owned by the digest context
    # OpenSSL 3.0 refuses "distid" among the init parameters (the Z digest is not armed yet),
    # so the identity is set on the key context between init and the first data.
    if (
        init(context, ctypes.byref(key_context), b"SM3", None, None, pointer, None) != 1
        or _lib.EVP_PKEY_CTX_set1_id(key_context, DEFAULT_ID, len(DEFAULT_ID)) != 1
    ):
        _lib.EVP_MD_CTX_free(context)
        _raise(what)
    return int(context)


class _Key:
    """An ``EVP_PKEY*`` owned by this object, freed with it."""

    __slots__ = ("_free", "_pointer")

    def __init__(self, pointer: int) -> None:
        self._pointer = pointer
        self._free = _lib.EVP_PKEY_free  # still reachable while the interpreter shuts down

    def __del__(self) -> None:
        self._free(self._pointer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"  # never the key's bytes


class Sm2PublicKey(_Key):
    """An SM2 public key."""

    __slots__ = ()

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` (DER) is this key's over ``message``; False when malformed."""
        context = _digest_context(
            _lib.EVP_DigestVerifyInit_ex, self._pointer, "SM2 verification set-up"
        )
        try:
            valid: int = _lib.EVP_DigestVerify(
                context, signature, len(signature), message, len(message)
            )
        finally:
            _lib.EVP_MD_CTX_free(context)
        if valid != 1:
            # 0: a wrong signature; below 0: one OpenSSL cannot even parse. Both are "no".
            _lib.ERR_clear_error()
        return valid == 1


class Sm2PrivateKey(_Key):
    """An SM2 private key (with its public point)."""

    __slots__ = ()

    def sign(self, message: bytes) -> bytes:
        """The DER signature over ``message`` (a fresh random nonce each time)."""
        context = _digest_context(_lib.EVP_DigestSignInit_ex, self._pointer, "SM2 signing set-up")
        try:
            size = _c_size_t(MAX_SIGNATURE_SIZE)
            signature = ctypes.create_string_buffer(MAX_SIGNATURE_SIZE)
            signed = _lib.EVP_DigestSign(
                context, signature, ctypes.byref(size), message, len(message)
            )
            if signed != 1:
                _raise("SM2 signing")
        finally:
            _lib.EVP_MD_CTX_free(context)
        return signature.raw[: size.value]

    def public_bytes(self) -> bytes:
        """The public key, uncompressed (65 bytes)."""
        return _public_bytes(self._pointer)

    def public_key(self) -> Sm2PublicKey:
        """The public half, as a key of its own."""
        return load_public(self.public_bytes())

    def pkcs8_pem(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM."""
        bio = _lib.BIO_new(_lib.BIO_s_mem())
        if not bio:
            _raise("BIO_new")
        try:
            if _lib.PEM_write_bio_PrivateKey(bio, self._pointer, None, None, 0, None, None) != 1:
                _raise("writing the SM2 key as PEM")
            data = _c_void_p()
            size = _lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(data))
            if size <= 0 or not data:
                _raise("reading the PEM back")
            return ctypes.string_at(data, size)
        finally:
            _lib.BIO_free(bio)


def _public_bytes(pointer: int) -> bytes:
    buffer = ctypes.create_string_buffer(PUBLIC_KEY_SIZE)
    size = _c_size_t(0)
    if (
        _lib.EVP_PKEY_get_octet_string_param(
            pointer, b"pub", buffer, PUBLIC_KEY_SIZE, ctypes.byref(size)
        )
        != 1
    ):
        _raise("exporting the SM2 public key")
    if size.value != PUBLIC_KEY_SIZE or buffer.raw[0] != _UNCOMPRESSED:
        raise OpenSSLError(f"OpenSSL exported a {size.value}-byte SM2 point, not 65 uncompressed")
    return buffer.raw


def _require_usable() -> None:
    if _lib is None:
        raise OpenSSLError(f"SM2 is not usable: {UNAVAILABLE_REASON}")


def generate() -> Sm2PrivateKey:
    """A fresh SM2 key pair from OpenSSL's random generator."""
    _require_usable()
    context = _lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
    if not context:
        _raise("EVP_PKEY_CTX_new_from_name(SM2)")
    try:
        pointer = _c_void_p()
        if _lib.EVP_PKEY_keygen_init(context) != 1:
            _raise("SM2 key generation set-up")
        if _lib.EVP_PKEY_generate(context, ctypes.byref(pointer)) != 1:
            _raise("SM2 key generation")
    finally:
        _lib.EVP_PKEY_CTX_free(context)
    assert pointer.value is not None  # EVP_PKEY_generate returned 1
    return Sm2PrivateKey(pointer.value)


def load_public(raw: bytes) -> Sm2PublicKey:
    """The public key for an uncompressed point; ValueError when it is not one on the curve."""
    _require_usable()
    if len(raw) != PUBLIC_KEY_SIZE or raw[0] != _UNCOMPRESSED:
        raise ValueError(f"an SM2 public key is 65 bytes starting 0x04, not {len(raw)} bytes")
    params, buffers = _params(
        (b"group", _PARAM_UTF8_STRING, b"SM2"), (b"pub", _PARAM_OCTET_STRING, raw)
    )
    context = _lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
    if not context:
        _raise("EVP_PKEY_CTX_new_from_name(SM2)")
    try:
        pointer = _c_void_p()
        if _lib.EVP_PKEY_fromdata_init(context) != 1:
            _raise("SM2 public key import set-up")
        if _lib.EVP_PKEY_fromdata(context, ctypes.byref(pointer), _SELECT_PUBLIC_KEY, params) != 1:
            _lib.ERR_clear_error()  # OpenSSL checks the point lies on the curve
            raise ValueError("the bytes are not a point on the SM2 curve")
    finally:
        _lib.EVP_PKEY_CTX_free(context)
        del buffers
    assert pointer.value is not None
    return Sm2PublicKey(pointer.value)


def load_private_pem(pem: bytes) -> Sm2PrivateKey | None:
    """The SM2 key in unencrypted PKCS#8 PEM; None when the PEM holds another kind of key;
    ValueError when it is no unencrypted PKCS#8 PEM key at all."""
    _require_usable()
    if not pem.lstrip().startswith(_PEM_PRIVATE):
        raise ValueError("not an unencrypted PKCS#8 PEM private key")
    bio = _lib.BIO_new_mem_buf(pem, len(pem))
    if not bio:
        _raise("BIO_new_mem_buf")
    try:
        # An empty passphrase, never a prompt on the terminal (the header says unencrypted).
        pointer = _lib.PEM_read_bio_PrivateKey(bio, None, None, b"")
    finally:
        _lib.BIO_free(bio)
    if not pointer:
        _lib.ERR_clear_error()  # OpenSSL's reasons could quote the file: never pass them on
        raise ValueError("not a readable PKCS#8 PEM private key")
    key = Sm2PrivateKey(pointer)  # owns the pointer from here, whatever it holds
    if _lib.EVP_PKEY_is_a(pointer, b"SM2") != 1:
        return None
    return key
