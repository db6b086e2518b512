"""Typed readers for JSON reference data: every problem becomes a CatalogueError naming the file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from casesync.domain.errors import CatalogueError

JsonObject = dict[str, Any]


class Reader:
    """Reads fields of one JSON file, naming the file and the place of every problem."""

    __slots__ = ("file",)

    def __init__(self, path: Path) -> None:
        self.file = str(path)

    def load(self) -> JsonObject:
        """The file's top-level object."""
        try:
            text = Path(self.file).read_text(encoding="utf-8")
        except OSError as e:
            raise CatalogueError(self.file, f"cannot read: {e.strerror}") from e
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CatalogueError(self.file, f"not JSON: {e.msg} at line {e.lineno}") from e
        return self.obj(data, "top level")

    def fail(self, where: str, problem: str) -> CatalogueError:
        """An error for ``where`` in this file, to be raised by the caller."""
        return CatalogueError(self.file, f"{where}: {problem}")

    def obj(self, value: object, where: str) -> JsonObject:
        """``value`` as a JSON object."""
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def array(self, data: JsonObject, key: str, where: str) -> list[Any]:
        """A required list field."""
        value = data.get(key)
        if not isinstance(value, list):
            raise self.fail(where, f"'{key}' must be a list")
        return value

    def text(self, data: JsonObject, key: str, where: str) -> str:
        """A required non-empty string field."""
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"'{key}' must be a non-empty string")
        return value

    def opt_text(self, data: JsonObject, key: str, where: str) -> str | None:
        """An optional string field."""
        if data.get(key) is None:
            return None
        return self.text(data, key, where)

    def integer(self, data: JsonObject, key: str, where: str) -> int:
        """A required non-negative integer field."""
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, f"'{key}' must be a non-negative integer")
        return value

    def flag(self, data: JsonObject, key: str, where: str, default: bool | None = None) -> bool:
        """A boolean field, required unless a default is given."""
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"'{key}' must be true or false")
        return value

    def texts(self, data: JsonObject, key: str, where: str) -> tuple[str, ...]:
        """An optional list of strings (empty when absent)."""
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, f"'{key}' must be a list of strings")
        return tuple(value)

    def day(self, data: JsonObject, key: str, where: str) -> date:
        """A required ISO date field."""
        text = self.text(data, key, where)
        return self.parse_day(text, f"{where} '{key}'")

    def opt_day(self, data: JsonObject, key: str, where: str) -> date | None:
        """An optional ISO date field."""
        if data.get(key) is None:
            return None
        return self.day(data, key, where)

    def parse_day(self, text: object, where: str) -> date:
        """An ISO date (YYYY-MM-DD) from text."""
        if isinstance(text, str):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise self.fail(where, f"{text!r} is not a YYYY-MM-DD date")
