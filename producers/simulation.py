"""Realistic case traffic for a region, for demos, benchmarks and tests (pure, seeded).

Each simulated case follows a legal path through the lifecycle of its handling mode: mostly
the happy path, sometimes a materials round trip (补正), a refusal, a denial or a withdrawal.
Partners come from the region's own agreements (e.g. 如东 ↔ 桐乡), items from what they share.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import Applicant
from casesync.domain.items import ApplicantField
from casesync.domain.lifecycle import allowed_events, is_terminal, next_state
from casesync.domain.vocabulary import ApplicantKind, CaseState, EventType, HandlingMode
from producers.changes import CaseChange

E = EventType
# How likely each event is when it is allowed: the happy path dominates, as at real windows.
_WEIGHTS = {
    E.CASE_ACCEPTED: 90, E.CASE_REFUSED: 3, E.MATERIALS_REQUESTED: 10, E.MATERIALS_SUPPLIED: 95,
    E.CASE_FORWARDED: 100, E.REVIEW_STARTED: 100, E.CASE_APPROVED: 92, E.CASE_DENIED: 5,
    E.RESULT_DELIVERED: 100, E.CASE_WITHDRAWN: 1,
}  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"


@dataclass(frozen=True, slots=True)
class PlannedCase:
    case_id: str
    item_code: str
    mode: HandlingMode
    partner: str
    applicant: Applicant
    path: tuple[EventType, ...]


def lifecycle_path(rng: random.Random, mode: HandlingMode) -> tuple[EventType, ...]:
    """A legal sequence of events from submission to a terminal state."""
    path = [E.CASE_SUBMITTED]
    state: CaseState = next_state(mode, None, E.CASE_SUBMITTED)
    while not is_terminal(state):
        options = sorted(e for e in allowed_events(mode, state) if e in _WEIGHTS)
        if not options:
            break
        event = rng.choices(options, weights=[_WEIGHTS[e] for e in options])[0]
        path.append(event)
        state = next_state(mode, state, event)
    return tuple(path)


def regional_partners(catalogue: Catalogue, region: str, on: date) -> list[str]:
    """Partners through the region's own (non-national) agreements, else any partner."""
    partners = {
        member
        for agreement in catalogue.agreements.values()
        if not agreement.national and region in agreement.members and agreement.in_force(on)
        for member in agreement.members
        if member != region
    }
    return sorted(partners) or sorted(catalogue.partners_of(region, on))


class Simulation:
    """Plans cases and yields their changes, interleaved across cases, seeded for repeatability."""

    def __init__(self, catalogue: Catalogue, region: str, seed: int | None = None) -> None:
        self._catalogue = catalogue
        self._region = region
        self._rng = random.Random(seed)
        self._run = f"{self._rng.getrandbits(32):08x}"

    def plan(self, count: int, on: date, partners: list[str] | None = None) -> list[PlannedCase]:
        rng, catalogue = self._rng, self._catalogue
        partners = partners or regional_partners(catalogue, self._region, on)
        shared = {p: sorted(catalogue.shared_items(self._region, p, on)) for p in partners}
        partners = [p for p in partners if shared[p]]
        planned = []
        for n in range(count):
            partner = rng.choice(partners)
            item = catalogue.item(rng.choice(shared[partner]))
            mode = rng.choice(sorted(item.handling_modes))
            planned.append(
                PlannedCase(
                    case_id=f"{self._region}-{self._run}-{n:07d}",
                    item_code=item.code,
                    mode=mode,
                    partner=partner,
                    applicant=self._applicant(item.applicant_fields),
                    path=lifecycle_path(rng, mode),
                )
            )
        return planned

    def changes(self, planned: list[PlannedCase], clock: type[datetime]) -> Iterator[CaseChange]:
        """Each case's changes in order; cases interleave at random, as at busy windows."""
        active = [(case, 0) for case in planned]
        rng = self._rng
        while active:
            index = rng.randrange(len(active))
            case, step = active[index]
            event = case.path[step]
            now = clock.now().astimezone()
            if step == 0:
                yield CaseChange(
                    case.case_id, event, 0, now, item_code=case.item_code,
                    handling_mode=case.mode, applicant=case.applicant,
                    target_regions=(case.partner,),
                )  # fmt: skip
            else:
                yield CaseChange(case.case_id, event, step, now)
            if step + 1 < len(case.path):
                active[index] = (case, step + 1)
            else:
                active[index] = active[-1]
                active.pop()

    def _applicant(self, fields: frozenset[ApplicantField]) -> Applicant:
        rng = self._rng
        if ApplicantField.CREDIT_CODE in fields:
            place = rng.choice(["苏州", "银川", "如东", "桐乡"])
            name = f"{place}{rng.choice(['新材料', '化纤', '科技', '物流'])}有限公司"
            code = (
                "91"
                + self._region[:6]
                + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
            )
            return Applicant(ApplicantKind.COMPANY, name, credit_code=code)
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(["", *_GIVEN])
        id_number = None
        if ApplicantField.ID_NUMBER in fields:
            birth = f"{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            id_number = f"{self._region}{birth}{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"
        return Applicant(ApplicantKind.PERSON, name, id_number=id_number)
