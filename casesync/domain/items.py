"""Service items (政务服务事项): the national basic code and what each item needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from casesync.domain.vocabulary import HandlingMode

BASIC_CODE_LENGTH = 12


class ApplicantField(StrEnum):
    """Personal or company identifiers an item may need; anything else is withheld."""

    ID_NUMBER = "id_number"  # 居民身份证号码
    CREDIT_CODE = "credit_code"  # 统一社会信用代码


@dataclass(frozen=True, slots=True)
class BasicCode:
    """The parts of a 12-character basic code (基本编码, GB/T 39554.1-2020)."""

    level: str  # 2: region / level of the catalogue ("00" national)
    item_type: str  # 2: 行政许可, 行政确认, 公共服务, …
    department: str  # 2: first part of the 5-character main item (主项)
    sequence: str  # 3: rest of the main item
    sub_item: str  # 3: 子项, "000" when the item has none

    @property
    def main_item(self) -> str:
        """The 5-character main item code (department + sequence)."""
        return self.department + self.sequence


def parse_basic_code(code: str) -> BasicCode:
    """Split a basic code into its parts; raise ValueError if it has the wrong shape."""
    if len(code) != BASIC_CODE_LENGTH or not code.isascii() or not code.isalnum():
        raise ValueError(f"basic code must be {BASIC_CODE_LENGTH} ASCII letters or digits")
    return BasicCode(code[0:2], code[2:4], code[4:6], code[6:9], code[9:12])


@dataclass(frozen=True, slots=True)
class MaterialSpec:
    """A material (申请材料) a region requires for an item."""

    code: str  # stable key shared by all regions, e.g. "application-form"
    name: str  # the region's own wording


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """One item of the catalogue, as every region knows it."""

    code: str  # national basic code
    name: str
    department: str
    item_type: str
    time_limit_days: int  # 承诺办结时限, working days
    applicant_fields: frozenset[ApplicantField]
    handling_modes: frozenset[HandlingMode]
    aliases: tuple[str, ...] = ()
    workflows: tuple[str, ...] = ()  # declared multi-region workflows, oldest first
    name_confirmed_national: bool = False
    note: str | None = None
