"""The shipped catalogue: regions, items, materials and local codes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import UnknownItem, UnknownRegion
from casesync.domain.items import ApplicantField, parse_basic_code

from .conftest import PARTNERSHIP_SETUP, PENSION_TRANSFER, RUDONG, VEHICLE_INSPECTION

NATIONAL_LIST_CSV = Path(__file__).parents[2] / "data" / "national_items_partial.csv"
DOMAIN_REGION_CODES = [
    "320500", "640100", "320300", "371300", "411400", "340600", "320707", "371103", "320585",
    "320581", "320205", "320206", "320411", "310113", "320382", "320722", "320481", "320623",
    "330483", "341821", "341882", "320700", "321300", "341300", "370400", "370800", "371700",
]  # fmt: skip


def test_every_region_of_the_domain_is_present(catalogue: Catalogue) -> None:
    """Every GB/T 2260 code of the agreements' regions is a region marked as GB/T 2260."""
    for code in DOMAIN_REGION_CODES:
        assert catalogue.region(code).gbt2260, code


def test_suzhou_industrial_park_is_flagged_non_gbt(catalogue: Catalogue) -> None:
    """苏州工业园区 is present under its statistics code and flagged as not GB/T 2260."""
    park = catalogue.region("320576")
    assert park.name_zh == "苏州工业园区"
    assert not park.gbt2260


def test_every_item_code_has_the_basic_code_shape(catalogue: Catalogue) -> None:
    """Every item code splits into level, type, department, sequence and sub-item."""
    for code in catalogue.items:
        parts = parse_basic_code(code)
        assert parts.level + parts.item_type + parts.main_item + parts.sub_item == code


def test_confirmed_national_names_are_used(catalogue: Catalogue) -> None:
    """Items marked as confirmed national carry a name from the published national list."""
    with NATIONAL_LIST_CSV.open(encoding="utf-8") as f:
        names = {row["name"].removeprefix("[2022新增] ") for row in csv.DictReader(f)}
    confirmed = [i for i in catalogue.items.values() if i.name_confirmed_national]
    assert len(confirmed) >= 30
    assert all(item.name in names for item in confirmed)


def test_rudong_tongxiang_items_are_present(catalogue: Catalogue) -> None:
    """The five items the report names for Rudong and Tongxiang are found by name or alias."""
    names = {n for i in catalogue.items.values() for n in (i.name, *i.aliases)}
    for name in ("企业职工基本养老保险关系转移接续", "购房提取住房公积金", "车辆年检",
                 "基本医疗保险异地就医", "基本医疗保险关系转移"):  # fmt: skip
        assert name in names


def test_partnership_registration_materials_differ_by_province(catalogue: Catalogue) -> None:
    """合伙企业设立登记 needs premises proof in Shanghai and Jiangsu, the agreement in Anhui."""
    for region in ("310113", "320500", "320481"):
        codes = {m.code for m in catalogue.materials_for(PARTNERSHIP_SETUP, region)}
        assert codes == {"application-form", "premises-proof"}
    for region in ("341882", "341821", "340600"):
        codes = {m.code for m in catalogue.materials_for(PARTNERSHIP_SETUP, region)}
        assert codes == {"application-form", "partnership-agreement"}


def test_applicant_fields_are_minimised(catalogue: Catalogue) -> None:
    """Pension transfer needs the ID number; company registration the credit code, never an ID."""
    assert ApplicantField.ID_NUMBER in catalogue.item(PENSION_TRANSFER).applicant_fields
    registration = catalogue.item(PARTNERSHIP_SETUP).applicant_fields
    assert registration == {ApplicantField.CREDIT_CODE}
    assert not catalogue.item(VEHICLE_INSPECTION).applicant_fields


def test_local_codes_map_both_ways(catalogue: Catalogue) -> None:
    """A region's local code maps to the national code and back."""
    local = catalogue.local_code(PENSION_TRANSFER, RUDONG)
    assert local is not None
    assert local != PENSION_TRANSFER
    assert catalogue.national_code(RUDONG, local) == PENSION_TRANSFER


def test_national_code_passes_through_when_no_local_code(catalogue: Catalogue) -> None:
    """A region without its own code for an item may use the national code."""
    assert catalogue.local_code(PENSION_TRANSFER, "640100") is None
    assert catalogue.national_code("640100", PENSION_TRANSFER) == PENSION_TRANSFER


def test_unknown_codes_raise_typed_errors(catalogue: Catalogue) -> None:
    """Asking for a region or item that is not there raises UnknownRegion / UnknownItem."""
    with pytest.raises(UnknownRegion):
        catalogue.region("999999")
    with pytest.raises(UnknownItem):
        catalogue.item("000000000000")
    with pytest.raises(UnknownItem):
        catalogue.national_code(RUDONG, "no-such-local-code")
