"""Generated decoders: one straight-line function per (writer, reader) schema pair and binding.

Resolution is decided here once instead of per message: writer fields the reader lacks are
skipped, reader fields the writer lacks take their default, enum indexes map straight to reader
symbols. Every length and count is checked against the bytes left before anything is sliced or
allocated. Whatever the decoder cannot handle raises, and the codec asks fastavro, whose verdict
(value or typed error) stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

from casesync.contract.codegen import Binding, Schema, Source, Types, default_value
from casesync.contract.wire import (
    DATE_SHIFT,
    EPOCH,
    ONE_BYTE,
    ONE_BYTE_SIZE,
    BadBody,
    Unsupported,
    read_long,
    read_size,
)

Decoder = Callable[[bytes, int], tuple[Any, int]]

_RUNTIME = {
    "EPOCH": EPOCH,
    "TD": timedelta,
    "FROMORD": date.fromordinal,
    "SHIFT": DATE_SHIFT,
    "ONE": ONE_BYTE,
    "ONESZ": ONE_BYTE_SIZE,
    "rl": read_long,
    "rs": read_size,
    "Bad": BadBody,
    "NEW": object.__new__,
}


def compile_decoder(writer: Schema, reader: Schema, binding: Binding | None = None) -> Decoder:
    """``(data, position) → (value, next position)``; raises ``Unsupported`` outside the subset."""
    gen = ReaderSource(binding)
    gen.body(writer, reader)
    return gen.src.compile("d, p")


def _min_size(types: Types, schema: Schema) -> int:
    kind, definition = types.kind(schema)
    if kind == "null":
        return 0
    if kind == "record":
        return sum(_min_size(types, f["type"]) for f in definition["fields"])
    return 1


class ReaderSource:
    """Emits a decoder's body as Python; the reading primitives are methods, so that a compiled
    flavour (``casesync.contract.native``) can type them and keep the rest."""

    def __init__(self, binding: Binding | None) -> None:
        self.src = Source(_RUNTIME)
        self.writer_types, self.reader_types = Types(), Types()
        self.binding = binding

    def body(self, writer: Schema, reader: Schema) -> None:
        """The whole function body: read ``writer`` as ``reader`` into ``v``, return it and p."""
        self.src.emit("size = len(d)")
        self.value(writer, reader, "v")
        self.src.emit("return v, p")

    def value(self, writer: Schema, reader: Schema | None, var: str) -> None:
        """Emit code reading a ``writer`` value into ``var`` as ``reader``; None skips it."""
        kind, w = self.writer_types.kind(writer)
        r = None
        if reader is not None:
            reader_kind, r = self.reader_types.kind(reader)
            if reader_kind != kind:
                raise Unsupported(f"{kind} read as {reader_kind}")
        emit = self.src.emit
        if kind in ("long", "int", "timestamp-micros", "date"):
            self._number(kind if r is not None else None, var)
        elif kind == "string":
            self._string(var, decode=r is not None)
        elif kind == "null":
            emit(f"{var} = None")
        elif kind == "enum":
            self._enum(w, r, var)
        elif kind == "array":
            self._array(w, r, var)
        elif kind == "union":
            self._union(w, r, var)
        else:
            self._record(w, r, var)

    def _number(self, kind: str | None, var: str) -> None:
        """A long, int, timestamp or date into ``var``; ``kind`` None only skips it."""
        self._long(var)
        if kind == "timestamp-micros":
            self.src.emit(f"{var} = EPOCH + TD(0, 0, {var})")
        elif kind == "date":
            self.src.emit(f"{var} = FROMORD({var} + SHIFT)")

    def _byte(self, var: str) -> None:
        """One byte as an int (enum index, union branch); past the end raises IndexError."""
        self.src.emit(f"{var} = d[p]")
        self.src.emit("p += 1")

    def _lookup_byte(self, table: str, var: str) -> None:
        """``table`` indexed by one byte: a missing entry raises KeyError."""
        self.src.emit(f"{var} = {table}[d[p]]")
        self.src.emit("p += 1")

    def _skip_long(self) -> None:
        self.src.emit("p = rl(d, p)[1]")

    def _long(self, var: str) -> None:
        self.src.emit(f"{var} = ONE[d[p]]")
        self.src.emit("p += 1")
        with self.src.block(f"if {var} is None:"):
            self.src.emit(f"{var}, p = rl(d, p - 1)")

    def _string(self, var: str, decode: bool) -> None:
        # No bound check here: a slice past the end is only shorter, and once the position is
        # past the end it stays there, so the codec's final "position == length" check fails.
        emit, n = self.src.emit, self.src.fresh("n")
        emit(f"{n} = ONESZ[d[p]]")
        emit("p += 1")
        with self.src.block(f"if {n} < 0:"):
            emit(f"{n}, p = rs(d, p - 1)")
        if decode:
            emit(f"{var} = d[p:p + {n}].decode()")
        emit(f"p += {n}")

    def _enum(self, w: dict[str, Any], r: dict[str, Any] | None, var: str) -> None:
        symbols = w["symbols"]
        if len(symbols) > 64:  # indexes past 63 take two bytes; not worth a second path
            raise Unsupported("enum with more than 64 symbols")
        if r is None:
            table: dict[int, object] = {2 * i: None for i in range(len(symbols))}
        else:
            if r["name"] != w["name"]:
                raise Unsupported("renamed enum")
            table = self._enum_table(symbols, r)
        self._lookup_byte(self.src.const(table, "enum"), var)

    def _enum_table(self, symbols: list[str], r: dict[str, Any]) -> dict[int, object]:
        """Wire byte → decoded value; a byte left out makes the fast path give up."""
        members: dict[str, object] = {s: s for s in r["symbols"]}
        if self.binding is not None:
            cls = self.binding.enum_class(r["name"])
            members = {s: cls(s) for s in r["symbols"] if s in cls._value2member_map_}
        table = {}
        for index, written in enumerate(symbols):
            symbol = written if written in r["symbols"] else r.get("default")
            if symbol in members:
                table[2 * index] = members[symbol]
        return table

    def _array(self, w: dict[str, Any], r: dict[str, Any] | None, var: str) -> None:
        if _min_size(self.writer_types, w["items"]) == 0:
            raise Unsupported("array of zero-size items")
        src, n, item = self.src, self.src.fresh("c"), self.src.fresh("x")
        items = r["items"] if r is not None else None
        src.emit(f"{var} = []")
        self._long(n)
        with src.block(f"while {n}:"):
            with src.block(f"if {n} < 0:"):  # a negative count is followed by a byte size
                src.emit(f"{n} = -{n}")
                self._skip_long()
            with src.block(f"if {n} > size - p:"):  # every item takes at least one byte
                src.emit("raise Bad")
            with src.block(f"for _ in range({n}):"):
                self.value(w["items"], items, item)
                if r is not None:
                    src.emit(f"{var}.append({item})")
            self._long(n)
        if r is not None and self.binding is not None:
            src.emit(f"{var} = tuple({var})")

    def _union(self, w: list[Schema], r: list[Schema] | None, var: str) -> None:
        null_index, other = self.writer_types.optional(w)
        reader_other = None if r is None else self.reader_types.optional(r)[1]
        tag = self.src.fresh("t")
        self._byte(tag)
        with self.src.block(f"if {tag} == {2 * null_index}:"):
            self.src.emit(f"{var} = None")
        with self.src.block(f"elif {tag} == {2 * (1 - null_index)}:"):
            self.value(other, reader_other, var)
        with self.src.block("else:"):
            self.src.emit("raise Bad")

    def _record(self, w: dict[str, Any], r: dict[str, Any] | None, var: str) -> None:
        if r is not None and r["name"] != w["name"]:
            raise Unsupported("renamed record")
        reader_fields = {} if r is None else {f["name"]: f for f in r["fields"]}
        if any("aliases" in f for f in reader_fields.values()):
            raise Unsupported("field aliases")
        wanted = set(reader_fields)
        if self.binding is not None and r is not None:
            wanted = {f.name for f in fields(self.binding.record_class(r["name"]))}
            if not wanted <= set(reader_fields):
                raise Unsupported(f"{r['name']} has fields the reader schema lacks")
        values: dict[str, str] = {}
        for field in w["fields"]:
            name = field["name"]
            if name in wanted:
                values[name] = self.src.fresh("f")
                self.value(field["type"], reader_fields[name]["type"], values[name])
            else:
                self.value(field["type"], None, "_")
        if r is None:
            return
        for name in sorted(wanted - set(values)):  # sorted: the text must not vary by run
            field = reader_fields[name]
            if "default" not in field:
                raise Unsupported(f"no default for {name}")
            values[name] = self._default(field)
        self._build(r["name"], values, var)

    def _default(self, field: dict[str, Any]) -> str:
        kind, r = self.reader_types.kind(field["type"])
        value = default_value(field, kind)
        if kind == "enum" and self.binding is not None:
            value = self.binding.enum_class(r["name"])(str(value))
        return self.src.const(value, "d")

    def _build(self, name: str, values: dict[str, str], var: str) -> None:
        if self.binding is None:
            items = ", ".join(f"{k!r}: {v}" for k, v in values.items())
            self.src.emit(f"{var} = {{{items}}}")
            return
        cls = self.binding.record_class(name)
        if not plain_slots_dataclass(cls):
            arguments = ", ".join(f"{k}={v}" for k, v in values.items())
            self.src.emit(f"{var} = {self.src.const(cls, 'cls')}({arguments})")
            return
        # A frozen dataclass __init__ sets each field through object.__setattr__, which costs
        # more than decoding the field; the slot descriptors set the same attributes directly.
        self.src.emit(f"{var} = NEW({self.src.const(cls, 'cls')})")
        for k, v in values.items():
            self.src.emit(f"{self.src.const(getattr(cls, k).__set__, 'set')}({var}, {v})")


def plain_slots_dataclass(cls: type) -> bool:
    """True when the generated __init__ only stores its arguments in slots."""
    params = getattr(cls, "__dataclass_params__", None)
    return (
        params is not None
        and params.init
        and not hasattr(cls, "__post_init__")
        and {f.name for f in fields(cls)} <= set(getattr(cls, "__slots__", ()))
    )
