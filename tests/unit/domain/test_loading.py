"""Loading reference data from configured files, and the errors for malformed ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from casesync.domain.errors import CatalogueError
from casesync.domain.holidays import load_calendar
from casesync.domain.loading import DATA_DIR, CatalogueSources, load_catalogue


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _shipped(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def test_configured_agreements_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    """An agreements file from configuration is used, e.g. to end an agreement."""
    data = _shipped("agreements.json")
    for agreement in data["agreements"]:
        if agreement["id"] == "rudong-tongxiang-2021":
            agreement["effective_until"] = "2024-12-31"
    path = _write(tmp_path, "agreements.json", data)
    catalogue = load_catalogue(CatalogueSources(agreements=path))
    assert catalogue.partners_of("320623", date(2024, 12, 31)) == {"330483"}
    assert catalogue.partners_of("320623", date(2025, 1, 1)) == frozenset()


def test_unparseable_file_names_the_file(tmp_path: Path) -> None:
    """A file that is not JSON raises CatalogueError naming the file."""
    path = tmp_path / "regions.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(CatalogueSources(regions=path))
    assert caught.value.file == str(path)
    assert "not JSON" in caught.value.problem


def test_missing_file_is_a_catalogue_error(tmp_path: Path) -> None:
    """A configured path that does not exist raises CatalogueError, not OSError."""
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(CatalogueSources(items=tmp_path / "absent.json"))


@pytest.mark.parametrize(
    ("name", "corrupt", "problem"),
    [
        ("regions.json", lambda d: d["regions"][0].update(code="32"), "6 digits"),
        ("items.json", lambda d: d["items"][0].update(code="0020"), "12 ASCII"),
        ("items.json", lambda d: d["items"][0].update(handling_modes=["BY_POST"]), "BY_POST"),
        ("items.json", lambda d: d["items"][0].update(time_limit_days=-1), "non-negative"),
        ("agreements.json", lambda d: d["agreements"][3]["members"].append("999999"), "999999"),
        (
            "agreements.json",
            lambda d: d["agreements"][0].update(effective_from="2021-13-01"),
            "date",
        ),
        ("workflows.json", lambda d: d["workflows"][0]["steps"][1].update(role="x"), "role"),
    ],
)
def test_malformed_data_raises_catalogue_error(
    tmp_path: Path, name: str, corrupt: Any, problem: str
) -> None:
    """Each kind of malformed entry raises CatalogueError naming the file and the problem."""
    data = _shipped(name)
    corrupt(data)
    path = _write(tmp_path, name, data)
    sources = CatalogueSources(**{name.removesuffix(".json"): path})
    with pytest.raises(CatalogueError, match=problem) as caught:
        load_catalogue(sources)
    assert caught.value.file == str(path)


def test_malformed_holiday_file_raises_catalogue_error(tmp_path: Path) -> None:
    """A make-up working day on a weekday is refused with the file named."""
    data = _shipped("holidays.json")
    data["years"]["2025"]["makeup_workdays"].append("2025-03-03")
    path = _write(tmp_path, "holidays.json", data)
    with pytest.raises(CatalogueError, match="weekend") as caught:
        load_calendar(path)
    assert caught.value.file == str(path)
