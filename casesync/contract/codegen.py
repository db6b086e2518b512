"""Shared pieces of the schema-specialised codecs: a source builder and the supported subset.

fastavro interprets the schema for every value it writes or reads; for a fixed schema that
interpretation can be done once, as straight-line Python compiled at schema load. The subset
covered is what case events use: records, enums, strings, ints, longs, arrays, ``null``-unions
of one other type, ``timestamp-micros`` and ``date``. Anything else raises ``Unsupported`` and
the codec stays on fastavro for that schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from casesync.contract.wire import Unsupported

Schema = Any  # a fastavro parsed schema node: str, list or dict


@dataclass(frozen=True)
class Binding:
    """Record and enum types of the schema bound to Python classes instead of dicts and str.

    ``records``: record full name → slots dataclass whose fields carry the schema's field names.
    ``enums``: enum full name → StrEnum of the symbols this side knows; a symbol outside it makes
    the fast path give up, so the mapping's own ``UnknownSymbol`` is raised as before.
    """

    records: tuple[tuple[str, type], ...]
    enums: tuple[tuple[str, type[StrEnum]], ...]

    def record_class(self, name: str) -> type:
        """The class bound to record ``name``."""
        for record_name, cls in self.records:
            if record_name == name:
                return cls
        raise Unsupported(f"no class bound to record {name}")

    def enum_class(self, name: str) -> type[StrEnum]:
        """The StrEnum bound to enum ``name``."""
        for enum_name, cls in self.enums:
            if enum_name == name:
                return cls
        raise Unsupported(f"no class bound to enum {name}")


class Source:
    """Python source under construction, with its constants and fresh local names."""

    def __init__(self, namespace: Mapping[str, object]) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, object] = dict(namespace)
        self._depth = 1
        self._counter = 0

    def emit(self, line: str) -> None:
        """Add one line at the current indentation."""
        self.lines.append("    " * self._depth + line)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        """``header:`` followed by an indented body."""
        self.emit(header)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def fresh(self, prefix: str) -> str:
        """A local name not used before."""
        self._counter += 1
        return f"{prefix}{self._counter}"

    def const(self, value: object, prefix: str = "k") -> str:
        """A global name bound to ``value`` in the compiled function's namespace."""
        name = self.fresh(f"_{prefix}")
        self.namespace[name] = value
        return name

    def compile(self, signature: str) -> Callable[..., Any]:
        """The function ``signature`` with the emitted body."""
        text = f"def generated({signature}):\n" + "\n".join(self.lines) + "\n"
        code = compile(text, "<casesync.contract generated codec>", "exec")
        exec(code, self.namespace)  # noqa: S102 - the text is built here from a parsed schema
        return cast(Callable[..., Any], self.namespace["generated"])


class Types:
    """Classifies schema nodes into the supported kinds, resolving named references."""

    def __init__(self) -> None:
        self._named: dict[str, dict[str, Any]] = {}

    def kind(self, schema: Schema) -> tuple[str, Schema]:
        """(kind, definition): kind is a primitive name, ``record``, ``enum``, ``array``,
        ``union``, ``timestamp-micros`` or ``date``."""
        if isinstance(schema, list):
            return "union", schema
        if isinstance(schema, str):
            if schema in ("null", "string", "int", "long"):
                return schema, schema
            named = self._named.get(schema)
            if named is None or named["type"] != "enum":  # record references could recurse
                raise Unsupported(f"type {schema}")
            return "enum", named
        base, logical = schema.get("type"), schema.get("logicalType")
        if logical is not None:
            if (base, logical) in (("long", "timestamp-micros"), ("int", "date")):
                return str(logical), schema
            raise Unsupported(f"logical type {logical}")
        if base in ("record", "enum"):
            self._named[schema["name"]] = schema
            return str(base), schema
        if base == "array":
            return "array", schema
        if isinstance(base, str | list) and base not in ("map", "fixed", "error"):
            return self.kind(base)
        raise Unsupported(f"type {base}")

    def optional(self, union: list[Schema]) -> tuple[int, Schema]:
        """(index of null, the other branch) of a two-branch union with ``null``."""
        if len(union) != 2 or "null" not in union:
            raise Unsupported("only unions of null and one type")
        null_index = union.index("null")
        return null_index, union[1 - null_index]


def default_value(field: Mapping[str, Any], kind: str) -> object:
    """The field's default as a decoded value; immutable defaults only."""
    value = field["default"]
    if value is None or (kind in ("string", "enum") and isinstance(value, str)):
        return value
    if kind in ("int", "long") and type(value) is int:
        return value
    raise Unsupported(f"default of {field['name']}")
