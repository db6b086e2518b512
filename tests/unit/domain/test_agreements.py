"""Agreement queries: partners, shared items, and effective dates."""

from __future__ import annotations

from datetime import date

import pytest

from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import UnknownRegion

from .conftest import (
    MEDICAL_TRANSFER,
    PENSION_TRANSFER,
    RUDONG,
    SUZHOU,
    TONGXIANG,
    VEHICLE_INSPECTION,
    YINCHUAN,
)

FOOD_LICENCE = "000131008000"  # 食品经营许可, in the Suzhou–Yinchuan list


def test_every_agreement_of_the_domain_is_shipped(catalogue: Catalogue) -> None:
    """Each agreement in the domain table (East–West aside) is in the catalogue."""
    expected = {
        "suzhou-yinchuan-2021",
        "rudong-tongxiang-2021",
        "ganyu-lanshan-2021",
        "huaihai-2021",
        "yangtze-delta-2021",
        "thirteen-counties-2021",
        "su-wan-2021",
    }
    assert expected <= catalogue.agreements.keys()
    assert catalogue.agreements["suzhou-yinchuan-2021"].effective_from == date(2021, 3, 25)


def test_suzhou_yinchuan_starts_on_signing_day(catalogue: Catalogue) -> None:
    """A Suzhou–Yinchuan item is shared from 2021-03-25, not the day before."""
    assert not catalogue.is_shared(FOOD_LICENCE, SUZHOU, YINCHUAN, date(2021, 3, 24))
    assert catalogue.is_shared(FOOD_LICENCE, SUZHOU, YINCHUAN, date(2021, 3, 25))
    assert catalogue.is_shared(FOOD_LICENCE, YINCHUAN, SUZHOU, date(2021, 3, 25))


def test_regional_item_is_not_shared_outside_the_agreement(catalogue: Catalogue) -> None:
    """A Suzhou–Yinchuan item does not cross between Rudong and Tongxiang."""
    assert not catalogue.is_shared(FOOD_LICENCE, RUDONG, TONGXIANG, date(2025, 1, 2))


def test_partners_of_follows_effective_dates(catalogue: Catalogue) -> None:
    """Suzhou has Yinchuan as a partner only once their agreement is in force."""
    assert YINCHUAN not in catalogue.partners_of(SUZHOU, date(2021, 3, 24))
    assert catalogue.partners_of(SUZHOU, date(2021, 3, 25)) == {YINCHUAN}
    assert catalogue.partners_of(RUDONG, date(2025, 1, 2)) == {TONGXIANG}


def test_national_items_are_shared_by_all_regions(catalogue: Catalogue) -> None:
    """A national item crosses between regions without any regional agreement."""
    assert catalogue.is_shared(PENSION_TRANSFER, SUZHOU, "341882", date(2021, 1, 1))
    assert not catalogue.is_shared(PENSION_TRANSFER, SUZHOU, "341882", date(2020, 12, 31))


def test_custom_agreement_shares_an_item_before_the_national_list(catalogue: Catalogue) -> None:
    """Rudong–Tongxiang shares the medical-insurance transfer before it became national."""
    in_2021 = date(2021, 6, 1)
    assert catalogue.is_shared(MEDICAL_TRANSFER, RUDONG, TONGXIANG, in_2021)
    assert not catalogue.is_shared(MEDICAL_TRANSFER, SUZHOU, YINCHUAN, in_2021)
    assert catalogue.is_shared(MEDICAL_TRANSFER, SUZHOU, YINCHUAN, date(2022, 1, 1))


def test_shared_items_joins_national_and_regional(catalogue: Catalogue) -> None:
    """Rudong and Tongxiang share their custom items plus the national ones."""
    shared = catalogue.shared_items(RUDONG, TONGXIANG, date(2025, 1, 2))
    assert {VEHICLE_INSPECTION, PENSION_TRANSFER, MEDICAL_TRANSFER} <= shared
    assert FOOD_LICENCE not in shared
    assert catalogue.shared_items(RUDONG, RUDONG, date(2025, 1, 2)) == frozenset()


def test_targets_for_regional_and_national_items(catalogue: Catalogue) -> None:
    """A regional item targets its partners only; a national item every other region."""
    on = date(2025, 1, 2)
    assert catalogue.targets_for(VEHICLE_INSPECTION, RUDONG, on) == {TONGXIANG}
    national_targets = catalogue.targets_for(PENSION_TRANSFER, RUDONG, on)
    assert national_targets == catalogue.regions.keys() - {RUDONG}


def test_queries_reject_unknown_regions(catalogue: Catalogue) -> None:
    """Agreement queries about a region not in the catalogue raise UnknownRegion."""
    with pytest.raises(UnknownRegion):
        catalogue.partners_of("999999", date(2025, 1, 2))
