"""Sequence a batch of triaged records against the cases' last applied versions: pure.

Per case, events apply strictly in version order:
  * the next version applies (and then any held successors, in order);
  * an older or repeated version, or an event id already applied, changes nothing (ignored);
  * a version beyond the next is held, visibly, until the missing one arrives (a gap);
  * an event that can never apply (illegal transition, malformed) is dead-lettered.
The caller reads the heads and held events of the batch's cases first (and which of its event ids
were applied, when a plan needs them: ``stands_without_applied_ids``), then writes what the plan
says in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from casesync.domain.errors import Disposition, DomainError, VersionGap
from casesync.domain.events import CaseEvent
from casesync.domain.validation import check_sequence
from casesync.domain.vocabulary import CaseState
from consumers.records import Incoming, Outcome, Rejection, Stage, TopicPartition


class CaseHead(NamedTuple):
    """The last applied version and state of a mirrored case."""

    version: int
    state: CaseState


@dataclass(frozen=True, slots=True)
class Held:
    """An event waiting for an earlier version of its case."""

    record: Incoming
    event: CaseEvent
    expected_version: int


def held_by_case(
    rows: Iterable[tuple[Incoming, int]], decode: Callable[[bytes], CaseEvent]
) -> dict[str, dict[int, Held]]:
    """Held records (with their expected versions) decoded and keyed by case, then version."""
    held: dict[str, dict[int, Held]] = {}
    for record, expected in rows:
        assert record.value is not None  # a held record was decoded once already
        event = decode(record.value)
        held.setdefault(event.case_id, {})[event.case_version] = Held(record, event, expected)
    return held


class Applied(NamedTuple):
    """An event to apply, with the record it came in (or was held) in."""

    record: Incoming
    event: CaseEvent


@dataclass
class Counts:
    """What happened to records: one partition's in a batch (a plan), or any summed up."""

    applied: int = 0
    ignored: int = 0
    not_targeted: int = 0  # records of a recording made before inboxes, for other regions
    held: int = 0
    dead_lettered: int = 0

    def add(self, other: Counts) -> None:
        """Add ``other``'s counts to these."""
        self.applied += other.applied
        self.ignored += other.ignored
        self.not_targeted += other.not_targeted
        self.held += other.held
        self.dead_lettered += other.dead_lettered


@dataclass
class BatchPlan:
    """Everything one batch writes."""

    applied: list[Applied] = field(default_factory=list)
    dead: list[tuple[Incoming, Rejection]] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    released: list[tuple[str, int]] = field(default_factory=list)  # held rows now applied
    # Cases with no mirror row before this batch: their rows can be inserted, not upserted.
    new_cases: set[str] = field(default_factory=set)
    next_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    counts: dict[TopicPartition, Counts] = field(default_factory=dict)

    def latest(self) -> dict[str, Applied]:
        """Each changed case's last applied event: the mirror row to write."""
        return {a.event.case_id: a for a in self.applied}

    def stands_without_applied_ids(self) -> bool:
        """Whether this plan holds when made without knowing which event ids were applied
        before: it holds nothing and sequencing refused nothing. (An event it applies whose id
        was applied before is refused by the history's unique index instead.)"""
        return not self.held and all(why.stage is not Stage.SEQUENCE for _, why in self.dead)


def event_ids(events: Iterable[CaseEvent], held: Mapping[str, Mapping[int, Held]]) -> list[str]:
    """The ids of the events a plan could apply: the batch's, and the held ones it may release.
    Passed to ``plan_batch`` as the applied ones among them, they let it ignore an event id
    applied before, whatever version it now claims."""
    return [e.event_id for e in events] + [
        h.event.event_id for versions in held.values() for h in versions.values()
    ]


def plan_batch(
    outcomes: Iterable[tuple[Incoming, Outcome]],
    heads: Mapping[str, CaseHead],
    applied_ids: Iterable[str],
    held: Mapping[str, Mapping[int, Held]],
) -> BatchPlan:
    """The plan for records in partition order; ``held`` maps case → version → held event."""
    plan = BatchPlan()
    state = _Sequencer(plan, dict(heads), set(applied_ids), {k: dict(v) for k, v in held.items()})
    for record, outcome in outcomes:
        tp = record.tp
        plan.next_offsets[tp] = record.offset + 1
        counts = plan.counts.get(tp)
        if counts is None:
            counts = plan.counts[tp] = Counts()
        if isinstance(outcome, Rejection):
            plan.dead.append((record, outcome))
            counts.dead_lettered += 1
        else:
            state.sequence(record, outcome, counts)
    return plan


class _Sequencer:
    __slots__ = ("_applied_ids", "_heads", "_held", "_plan")

    def __init__(
        self,
        plan: BatchPlan,
        heads: dict[str, CaseHead],
        applied_ids: set[str],
        held: dict[str, dict[int, Held]],
    ) -> None:
        self._plan = plan
        self._heads = heads
        self._applied_ids = applied_ids
        self._held = held

    def sequence(self, record: Incoming, event: CaseEvent, counts: Counts) -> None:
        if event.event_id in self._applied_ids:
            counts.ignored += 1  # a repeated event id changes nothing
            return
        head = self._heads.get(event.case_id)
        try:
            new_state = check_sequence(
                None if head is None else head.version, None if head is None else head.state, event
            )
        except DomainError as e:
            self._refused(record, event, e, counts)
            return
        if head is None:
            self._plan.new_cases.add(event.case_id)
        self._apply(record, event, new_state, counts)
        self._release_successors(event.case_id, counts)

    def _refused(
        self, record: Incoming, event: CaseEvent, error: DomainError, counts: Counts
    ) -> None:
        disposition = error.disposition
        if disposition is Disposition.IGNORE:
            counts.ignored += 1
        elif disposition is Disposition.HOLD_VISIBLE and isinstance(error, VersionGap):
            waiting = self._held.setdefault(event.case_id, {})
            if event.case_version in waiting:
                counts.ignored += 1  # the same version is already waiting
                return
            item = Held(record, event, error.expected)
            waiting[event.case_version] = item
            self._plan.held.append(item)
            counts.held += 1
        else:
            self._plan.dead.append((record, Rejection.of(Stage.SEQUENCE, error, event)))
            counts.dead_lettered += 1

    def _apply(
        self, record: Incoming, event: CaseEvent, new_state: CaseState, counts: Counts
    ) -> None:
        self._plan.applied.append(Applied(record, event))
        self._heads[event.case_id] = CaseHead(event.case_version, new_state)
        self._applied_ids.add(event.event_id)
        counts.applied += 1

    def _release_successors(self, case_id: str, counts: Counts) -> None:
        waiting = self._held.get(case_id)
        while waiting:
            head = self._heads[case_id]
            successor = waiting.pop(head.version + 1, None)
            if successor is None:
                return
            key = (case_id, successor.event.case_version)
            if successor not in self._plan.held:
                self._plan.released.append(key)  # held by an earlier batch: delete its row
            else:
                self._plan.held.remove(successor)  # held and released within this batch
            event = successor.event
            if event.event_id in self._applied_ids:
                counts.ignored += 1  # a repeated event id changes nothing, held or not
                continue
            try:
                new_state = check_sequence(head.version, head.state, event)
            except DomainError as e:
                self._plan.dead.append((successor.record, Rejection.of(Stage.SEQUENCE, e, event)))
                counts.dead_lettered += 1
                return
            self._plan.applied.append(Applied(successor.record, event))
            self._heads[case_id] = CaseHead(event.case_version, new_state)
            self._applied_ids.add(event.event_id)
            counts.applied += 1
