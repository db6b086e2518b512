"""Three regions exchanging national-list cases through their inboxes end up agreeing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casesync.domain.events import Applicant
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.testing_regions import RegionFactory
from producers.changes import CaseChange

pytestmark = pytest.mark.integration

RUDONG, TONGXIANG, SUZHOU = "320623", "330483", "320500"
HOUSING_WITHDRAWAL = "002023002000"  # 购房提取住房公积金: national list, shared by every region
LIFE = (EventType.CASE_SUBMITTED, EventType.CASE_ACCEPTED, EventType.REVIEW_STARTED,
        EventType.CASE_APPROVED, EventType.RESULT_DELIVERED)  # fmt: skip


def _national_cases(region: str, first: int, count: int, steps: int) -> list[CaseChange]:
    """Housing-fund withdrawals ``first`` .. ``first + count - 1`` of ``region`` through
    ``steps`` events, interleaved, with no target given: the agreements address them to every
    region."""
    start = datetime.now(UTC)
    return [
        CaseChange(
            f"{region}-X-{n:04d}",
            LIFE[step],
            step,
            start + timedelta(seconds=n, minutes=step),
            item_code=HOUSING_WITHDRAWAL if step == 0 else None,
            handling_mode=HandlingMode.FULLY_ONLINE if step == 0 else None,
            applicant=_applicant(region, n) if step == 0 else None,
        )
        for step in range(steps)
        for n in range(first, first + count)
    ]


def _applicant(region: str, n: int) -> Applicant:
    return Applicant(ApplicantKind.PERSON, f"申请人{n}", id_number=f"{region}1990{n:08d}")


def test_three_regions_exchanging_national_cases_end_with_equal_digests(
    region_factory: RegionFactory,
) -> None:
    """Rudong, Tongxiang and Suzhou each record cases of a national item, some finished, some
    half way, relay them and mirror each other's inboxes: every region's mirror of every other
    equals that region's own cases, and no region mirrors itself."""
    regions = [region_factory(code) for code in (RUDONG, TONGXIANG, SUZHOU)]
    for n, region in enumerate(regions):
        region.record(_national_cases(region.code, 0, 30 + 10 * n, steps=5))  # finished
        region.record(_national_cases(region.code, 100, 25, steps=2))  # accepted, under way
    published = [region.relay() for region in regions]
    assert published == [200, 250, 300]  # 150 + 50, 200 + 50, 250 + 50
    for region in regions:
        stats = region.consume()
        assert stats.applied == sum(published) - published[regions.index(region)]
    for region in regions:
        owned = region.owned_digest()
        for partner in regions:
            if partner is not region:
                assert partner.mirror_digest(region.code) == owned
        assert region.mirror_digest(region.code)[1] == 0
