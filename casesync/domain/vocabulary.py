"""The shared words of the cross-province (跨省通办) case contract.

Every region speaks these; the Avro schemas in ``schemas/`` carry the same symbols.
Append-only: a released symbol is never renamed or removed (old readers fall back to
the enum default in the schema).
"""

from __future__ import annotations

from enum import StrEnum


class HandlingMode(StrEnum):
    """The three official modes of cross-province handling."""

    FULLY_ONLINE = "FULLY_ONLINE"  # 全程网办
    ACCEPTED_ELSEWHERE = "ACCEPTED_ELSEWHERE"  # 异地代收代办
    JOINT = "JOINT"  # 多地联办


class CaseState(StrEnum):
    """Where a case stands in its lifecycle."""

    SUBMITTED = "SUBMITTED"  # 申请
    ACCEPTED = "ACCEPTED"  # 受理
    REFUSED = "REFUSED"  # 不予受理
    MATERIALS_REQUESTED = "MATERIALS_REQUESTED"  # 补正
    FORWARDED = "FORWARDED"  # 转办
    UNDER_REVIEW = "UNDER_REVIEW"  # 审查
    APPROVED = "APPROVED"  # 办结
    DENIED = "DENIED"  # 不予许可
    DELIVERED = "DELIVERED"  # 送达
    WITHDRAWN = "WITHDRAWN"  # 撤回


class EventType(StrEnum):
    """What happened to a case; each type is one step taken by one region."""

    CASE_SUBMITTED = "CASE_SUBMITTED"
    CASE_ACCEPTED = "CASE_ACCEPTED"
    CASE_REFUSED = "CASE_REFUSED"
    MATERIALS_REQUESTED = "MATERIALS_REQUESTED"
    MATERIALS_SUPPLIED = "MATERIALS_SUPPLIED"
    CASE_FORWARDED = "CASE_FORWARDED"
    REVIEW_STARTED = "REVIEW_STARTED"
    CASE_APPROVED = "CASE_APPROVED"
    CASE_DENIED = "CASE_DENIED"
    RESULT_DELIVERED = "RESULT_DELIVERED"
    CASE_WITHDRAWN = "CASE_WITHDRAWN"
    STEP_REQUESTED = "STEP_REQUESTED"  # a joint workflow asks a partner region for a step
    STEP_COMPLETED = "STEP_COMPLETED"  # the partner region reports its step done


class MaterialStatus(StrEnum):
    """Status of one required material (申请材料) of a case."""

    REQUIRED = "REQUIRED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class ApplicantKind(StrEnum):
    """Natural person (自然人) or legal person (法人)."""

    PERSON = "PERSON"
    COMPANY = "COMPANY"
