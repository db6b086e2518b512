"""Generated encoders: one straight-line function per writer schema (and binding).

The encoder may refuse a value that fastavro would accept (an int for a timestamp, a naive
datetime, a missing key): the codec then encodes it with fastavro, so the fast path only has to
be right on what it accepts. It never accepts what fastavro refuses: types and ranges are
checked, strings must be ``str``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from casesync.contract.codegen import Binding, Schema, Source, Types, default_value
from casesync.contract.wire import (
    DATE_SHIFT,
    EPOCH,
    ONE_MICROSECOND,
    SIZE_BYTES,
    Unsupported,
    int_bytes,
    long_bytes,
    size_bytes,
)

Encoder = Callable[[Any], bytes]

_RUNTIME = {
    "EPOCH": EPOCH,
    "US": ONE_MICROSECOND,
    "SHIFT": DATE_SHIFT,
    "SZ": SIZE_BYTES,
    "lb": long_bytes,
    "ib": int_bytes,
    "sb": size_bytes,
}


def compile_encoder(schema: Schema, header: bytes, binding: Binding | None = None) -> Encoder:
    """``value → header + body``; raises ``Unsupported`` for schemas outside the subset."""
    return encoder_source(schema, header, binding).compile("r")


def encoder_source(schema: Schema, header: bytes, binding: Binding | None = None) -> Source:
    """The body of ``generated(r)``: parts appended through ``w`` to ``o``, then joined."""
    writer = _Writer(binding)
    writer.src.emit("o = [HEADER]")
    writer.src.emit("w = o.append")
    writer.value(schema, "r")
    writer.src.emit('return b"".join(o)')
    writer.src.namespace["HEADER"] = header
    return writer.src


class _Writer:
    def __init__(self, binding: Binding | None) -> None:
        self.src = Source(_RUNTIME)
        self.types = Types()
        self.binding = binding

    def value(self, schema: Schema, expr: str) -> None:
        """Emit the encoding of the value ``expr`` (a local name or attribute/key access)."""
        kind, definition = self.types.kind(schema)
        emit = self.src.emit
        if kind == "string":
            v = self.src.fresh("s")
            # Lengths past the table raise IndexError: such rare values go to fastavro.
            emit(f"{v} = {expr}.encode()")
            emit(f"w(SZ[len({v})])")
            emit(f"w({v})")
        elif kind == "long":
            emit(f"w(lb({expr}))")
        elif kind == "int":
            emit(f"w(ib({expr}))")
        elif kind == "timestamp-micros":
            emit(f"w(lb(({expr} - EPOCH) // US))")
        elif kind == "date":
            emit(f"w(ib({expr}.toordinal() - SHIFT))")
        elif kind == "null":
            emit(f"if {expr} is not None: raise ValueError('not null')")
        elif kind == "enum":
            self._enum(definition, expr)
        elif kind == "array":
            self._array(definition, expr)
        elif kind == "union":
            self._union(definition, expr)
        else:
            self._record(definition, expr)

    def _enum(self, definition: dict[str, Any], expr: str) -> None:
        # Keyed by symbol: a StrEnum member hashes and compares as its value.
        table = {s: size_bytes(i) for i, s in enumerate(definition["symbols"])}
        self.src.emit(f"w({self.src.const(table, 'enum')}[{expr}])")

    def _array(self, definition: dict[str, Any], expr: str) -> None:
        items, item = self.src.fresh("a"), self.src.fresh("i")
        self.src.emit(f"{items} = {expr}")
        with self.src.block(f"if {items}:"):
            self.src.emit(f"w(sb(len({items})))")
            with self.src.block(f"for {item} in {items}:"):
                self.value(definition["items"], item)
        self.src.emit('w(b"\\x00")')

    def _union(self, definition: list[Schema], expr: str) -> None:
        null_index, other = self.types.optional(definition)
        v = self.src.fresh("u")
        self.src.emit(f"{v} = {expr}")
        with self.src.block(f"if {v} is None:"):
            self.src.emit(f"w({size_bytes(null_index)!r})")
        with self.src.block("else:"):
            self.src.emit(f"w({size_bytes(1 - null_index)!r})")
            self.value(other, v)

    def _record(self, definition: dict[str, Any], expr: str) -> None:
        r = self.src.fresh("r")
        self.src.emit(f"{r} = {expr}")
        attributes: frozenset[str] = frozenset()
        if self.binding is not None:
            cls = self.binding.record_class(definition["name"])
            attributes = frozenset(f.name for f in fields(cls))
            self.src.emit(f"if type({r}) is not {self.src.const(cls, 'cls')}: raise TypeError")
        for field in definition["fields"]:
            self.value(field["type"], self._field(field, r, attributes))

    def _field(self, field: dict[str, Any], r: str, attributes: frozenset[str]) -> str:
        name, kind = field["name"], self.types.kind(field["type"])[0]
        if self.binding is not None:
            if name in attributes:
                return f"{r}.{name}"
            if "default" not in field:
                raise Unsupported(f"field {name} is neither bound nor defaulted")
            return self.src.const(default_value(field, kind), "d")
        if "default" in field:
            return f"{r}.get({name!r}, {self.src.const(default_value(field, kind), 'd')})"
        if kind == "union":  # fastavro writes null for a missing optional field
            return f"{r}.get({name!r})"
        return f"{r}[{name!r}]"
