"""Compiled codecs per schema pair, or None where the schema is outside the generated subset.

Compiled once per process for each (writer, reader, binding): many codec instances over the same
schemas share the functions. Functions built ahead of time with Cython (``native``) are preferred
to the Python ones generated here.
"""

from __future__ import annotations

from functools import lru_cache

from casesync.contract.codegen import Binding
from casesync.contract.gen_reader import Decoder, compile_decoder
from casesync.contract.gen_writer import Encoder, compile_encoder
from casesync.contract.native import load_decoder, load_encoder
from casesync.contract.schemas import RegisteredSchema
from casesync.contract.wire import MARKER, Unsupported


@lru_cache(maxsize=64)
def encoder_for(writer: RegisteredSchema, binding: Binding | None = None) -> Encoder | None:
    """``value → single-object bytes`` for ``writer``; None means: use fastavro."""
    header = MARKER + writer.fingerprint
    try:
        compiled = load_encoder(writer.parsed, header, binding)
        return compiled or compile_encoder(writer.parsed, header, binding)
    except Unsupported:
        return None


@lru_cache(maxsize=64)
def decoder_for(
    writer: RegisteredSchema, reader: RegisteredSchema, binding: Binding | None = None
) -> Decoder | None:
    """``(bytes, body start) → (value, end)`` resolving ``writer`` to ``reader``; None: fastavro."""
    try:
        compiled = load_decoder(writer.parsed, reader.parsed, binding)
        return compiled or compile_decoder(writer.parsed, reader.parsed, binding)
    except Unsupported:
        return None
