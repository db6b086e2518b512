"""Small hand-made catalogues for access tests: four regions, three items, a workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from casesync.access.desired import desired_access
from casesync.access.model import DesiredAccess
from casesync.adapters.topics import TopicNames
from casesync.domain.agreements import Agreement
from casesync.domain.catalogue import Catalogue
from casesync.domain.items import ServiceItem
from casesync.domain.regions import Region
from casesync.domain.vocabulary import HandlingMode
from casesync.domain.workflows import StepSpec, Workflow

RUDONG, TONGXIANG, SUZHOU, YINCHUAN = "320623", "330483", "320500", "640100"
HOUSING = "002023002000"  # 购房提取住房公积金: Rudong–Tongxiang only
MEDICAL = "002033003000"  # 基本医疗保险关系转移接续: a workflow, Rudong–Tongxiang
PENSION = "002019001000"  # 养老保险转移接续: national list
ON = date(2026, 3, 2)
NAMES = TopicNames()

RUDONG_TONGXIANG = Agreement(
    id="rudong-tongxiang",
    name="如东—桐乡",
    national=False,
    members=frozenset({RUDONG, TONGXIANG}),
    items=frozenset({HOUSING, MEDICAL}),
    effective_from=date(2021, 1, 1),
)
SUZHOU_YINCHUAN = Agreement(
    id="suzhou-yinchuan",
    name="苏州—银川",
    national=False,
    members=frozenset({SUZHOU, YINCHUAN}),
    items=frozenset({HOUSING}),
    effective_from=date(2021, 3, 25),
)
NATIONAL = Agreement(
    id="national-batch",
    name="全国清单",
    national=True,
    members=frozenset(),
    items=frozenset({PENSION}),
    effective_from=date(2021, 1, 1),
)

CatalogueFactory = Callable[..., Catalogue]
DesiredFactory = Callable[..., DesiredAccess]


def _region(code: str) -> Region:
    return Region(code, f"区{code}", f"region {code}", "county", gbt2260=True)


def _item(code: str, *workflows: str) -> ServiceItem:
    return ServiceItem(
        code=code,
        name=f"事项{code}",
        department="dept",
        item_type="公共服务",
        time_limit_days=20,
        applicant_fields=frozenset(),
        handling_modes=frozenset({HandlingMode.FULLY_ONLINE}),
        workflows=workflows,
    )


MEDICAL_WORKFLOW = Workflow(
    id="medical-transfer",
    name="医保关系转移",
    item_code=MEDICAL,
    basis="test",
    promised_days=15,
    roles={"transfer_in": "转入地", "transfer_out": "转出地"},
    steps=(
        StepSpec(1, "申请", "transfer_in", 0, automatic=True),
        StepSpec(2, "转出", "transfer_out", 10, automatic=False),
    ),
)


@pytest.fixture
def catalogue_of() -> CatalogueFactory:
    """A catalogue of the four regions and three items with only the agreements given."""

    def build(*agreements: Agreement) -> Catalogue:
        return Catalogue(
            regions=[_region(code) for code in (RUDONG, TONGXIANG, SUZHOU, YINCHUAN)],
            items=[_item(HOUSING), _item(MEDICAL, MEDICAL_WORKFLOW.id), _item(PENSION)],
            agreements=agreements,
            workflows=[MEDICAL_WORKFLOW],
            materials={},
            local_codes={},
        )

    return build


@pytest.fixture
def desired_for(catalogue_of: CatalogueFactory) -> DesiredFactory:
    """The desired access of a catalogue with only the agreements given, on ``ON``."""

    def build(*agreements: Agreement, names: TopicNames = NAMES) -> DesiredAccess:
        return desired_access(catalogue_of(*agreements), names, ON)

    return build
