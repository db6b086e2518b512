"""Load the shipped (or configured) reference data files into a Catalogue.

Each file can be replaced by configuration: pass ``CatalogueSources`` with other paths.
Everything is checked once here so lookups later need no checks of their own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from casesync.domain._reading import JsonObject, Reader
from casesync.domain._rule_files import load_agreements, load_workflows
from casesync.domain.catalogue import Catalogue
from casesync.domain.items import (
    ApplicantField,
    MaterialSpec,
    ServiceItem,
    parse_basic_code,
)
from casesync.domain.regions import Region
from casesync.domain.vocabulary import HandlingMode

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True, slots=True)
class CatalogueSources:
    """Where each reference data file lives; defaults to the files shipped in the package."""

    regions: Path = DATA_DIR / "regions.json"
    items: Path = DATA_DIR / "items.json"
    agreements: Path = DATA_DIR / "agreements.json"
    workflows: Path = DATA_DIR / "workflows.json"


def load_catalogue(sources: CatalogueSources | None = None) -> Catalogue:
    """Read and check all reference data; raise CatalogueError naming the file and problem."""
    sources = sources or CatalogueSources()
    regions = _load_regions(Reader(sources.regions))
    region_codes = {r.code: r for r in regions}
    items, materials, local_codes = _load_items(Reader(sources.items), region_codes)
    item_codes = {i.code for i in items}
    agreements = load_agreements(Reader(sources.agreements), region_codes.keys(), item_codes)
    workflows = load_workflows(Reader(sources.workflows), item_codes)
    reader = Reader(sources.items)
    for item in items:
        for workflow_id in item.workflows:
            if workflow_id not in workflows:
                raise reader.fail(f"item {item.code}", f"unknown workflow {workflow_id!r}")
    return Catalogue(regions, items, agreements, workflows.values(), materials, local_codes)


@functools.cache
def shipped_catalogue() -> Catalogue:
    """The catalogue from the packaged data files, loaded once per process."""
    return load_catalogue()


def _load_regions(reader: Reader) -> list[Region]:
    regions: list[Region] = []
    seen: set[str] = set()
    for i, raw in enumerate(reader.array(reader.load(), "regions", "top level")):
        where = f"regions[{i}]"
        data = reader.obj(raw, where)
        code = reader.text(data, "code", where)
        if len(code) != 6 or not code.isdigit():
            raise reader.fail(where, f"region code {code!r} must be 6 digits")
        if code in seen:
            raise reader.fail(where, f"duplicate region code {code}")
        seen.add(code)
        regions.append(
            Region(
                code=code,
                name_zh=reader.text(data, "name_zh", where),
                name_en=reader.text(data, "name_en", where),
                level=reader.text(data, "level", where),
                gbt2260=reader.flag(data, "gbt2260", where),
                note=reader.opt_text(data, "note", where),
            )
        )
    return regions


ItemsData = tuple[
    list[ServiceItem], dict[tuple[str, str], tuple[MaterialSpec, ...]], dict[tuple[str, str], str]
]


def _load_items(reader: Reader, regions: dict[str, Region]) -> ItemsData:
    top = reader.load()
    departments = reader.obj(top.get("departments"), "departments")
    item_types = reader.obj(top.get("item_types"), "item_types")
    items: list[ServiceItem] = []
    materials: dict[tuple[str, str], tuple[MaterialSpec, ...]] = {}
    local_codes: dict[tuple[str, str], str] = {}
    seen: set[str] = set()
    for i, raw in enumerate(reader.array(top, "items", "top level")):
        data = reader.obj(raw, f"items[{i}]")
        code = reader.text(data, "code", f"items[{i}]")
        where = f"item {code}"
        try:
            parts = parse_basic_code(code)
        except ValueError as e:
            raise reader.fail(where, str(e)) from None
        if code in seen:
            raise reader.fail(where, "duplicate item code")
        seen.add(code)
        department = reader.text(data, "department", where)
        if departments.get(parts.department) != department:
            raise reader.fail(where, f"department code {parts.department} is not {department}")
        if parts.item_type not in item_types:
            raise reader.fail(where, f"unknown item type {parts.item_type}")
        try:
            fields = frozenset(
                ApplicantField(f) for f in reader.texts(data, "applicant_fields", where)
            )
            modes = frozenset(HandlingMode(m) for m in reader.texts(data, "handling_modes", where))
        except ValueError as e:
            raise reader.fail(where, str(e)) from None
        if not modes:
            raise reader.fail(where, "'handling_modes' must not be empty")
        items.append(
            ServiceItem(
                code=code,
                name=reader.text(data, "name", where),
                department=department,
                item_type=item_types[parts.item_type],
                time_limit_days=reader.integer(data, "time_limit_days", where),
                applicant_fields=fields,
                handling_modes=modes,
                aliases=reader.texts(data, "aliases", where),
                workflows=reader.texts(data, "workflows", where),
                name_confirmed_national=reader.flag(data, "name_confirmed_national", where, False),
                note=reader.opt_text(data, "note", where),
            )
        )
        for region in regions.values():
            materials[(code, region.code)] = _materials_for(reader, data, region, where)
        for region_code, local in reader.obj(data.get("local_codes", {}), where).items():
            if region_code not in regions or not isinstance(local, str) or not local:
                raise reader.fail(where, f"bad local code entry for region {region_code!r}")
            local_codes[(code, region_code)] = local
    _check_local_codes_unique(reader, local_codes)
    return items, materials, local_codes


def _materials_for(
    reader: Reader, item: JsonObject, region: Region, where: str
) -> tuple[MaterialSpec, ...]:
    # Most specific wins: the region's own list, then its province's, then the default.
    spec = reader.obj(item.get("materials"), f"{where} materials")
    by_region = reader.obj(spec.get("by_region", {}), f"{where} materials.by_region")
    by_province = reader.obj(spec.get("by_province", {}), f"{where} materials.by_province")
    raw = by_region.get(region.code, by_province.get(region.province, spec.get("default")))
    if not isinstance(raw, list) or not raw:
        raise reader.fail(where, f"no materials for region {region.code}")
    return tuple(
        MaterialSpec(
            code=reader.text(reader.obj(m, f"{where} material"), "code", f"{where} material"),
            name=reader.text(m, "name", f"{where} material"),
        )
        for m in raw
    )


def _check_local_codes_unique(reader: Reader, local_codes: dict[tuple[str, str], str]) -> None:
    seen: set[tuple[str, str]] = set()
    for (item, region), local in local_codes.items():
        if (region, local) in seen:
            raise reader.fail(f"item {item}", f"local code {local} reused in region {region}")
        seen.add((region, local))
