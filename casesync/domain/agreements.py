"""Agreements that share items between regions, and the index the consumer asks per event.

The national list is modelled as agreements whose members are every catalogue region, one per
batch, so "which items may cross between A and B on a date" has a single answer path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Agreement:
    """A bilateral, multilateral or national agreement (协议 / 清单) over a set of items."""

    id: str
    name: str
    national: bool  # True: every region in the catalogue is a member
    members: frozenset[str]  # region codes; empty for national agreements
    items: frozenset[str]  # national basic codes
    effective_from: date
    effective_until: date | None = None  # last day in force, inclusive
    items_complete: bool = True  # False: the list is representative or partial
    effective_from_exact: bool = True  # False: a documented approximation
    basis: str | None = None
    note: str | None = None

    def in_force(self, on: date) -> bool:
        """Whether the agreement applies on ``on`` (a China local date)."""
        if on < self.effective_from:
            return False
        return self.effective_until is None or on <= self.effective_until

    def covers(self, region: str) -> bool:
        """Whether ``region`` is a member (any catalogue region, for national agreements)."""
        return self.national or region in self.members


_NO_AGREEMENTS: tuple[Agreement, ...] = ()


class AgreementIndex:
    """Dict-backed answers to "is this item shared between these regions on this date"."""

    __slots__ = ("_by_region", "_national", "_pairs", "_region_codes")

    def __init__(self, agreements: Iterable[Agreement], region_codes: Iterable[str]) -> None:
        self._region_codes = frozenset(region_codes)
        national: dict[str, list[Agreement]] = {}
        pairs: dict[tuple[str, str, str], list[Agreement]] = {}
        by_region: dict[str, list[Agreement]] = {}
        for agreement in agreements:
            if agreement.national:
                for item in agreement.items:
                    national.setdefault(item, []).append(agreement)
                continue
            for member in agreement.members:
                by_region.setdefault(member, []).append(agreement)
            # Both orders are stored so a lookup never has to sort the pair.
            for item in agreement.items:
                for source in agreement.members:
                    for target in agreement.members:
                        if source != target:
                            pairs.setdefault((item, source, target), []).append(agreement)
        self._national = {k: tuple(v) for k, v in national.items()}
        self._pairs = {k: tuple(v) for k, v in pairs.items()}
        self._by_region = {k: tuple(v) for k, v in by_region.items()}

    def is_shared(self, item: str, source: str, target: str, on: date) -> bool:
        """Whether an agreement in force on ``on`` shares ``item`` from source to target."""
        if source == target:
            return False
        for agreement in self._national.get(item, _NO_AGREEMENTS):
            if agreement.in_force(on):
                return True
        for agreement in self._pairs.get((item, source, target), _NO_AGREEMENTS):
            if agreement.in_force(on):
                return True
        return False

    def partners_of(self, region: str, on: date) -> frozenset[str]:
        """Regions with a regional agreement (自选组合) in force with ``region``.

        National items are shared by everyone and so are left out of this answer.
        """
        partners: set[str] = set()
        for agreement in self._by_region.get(region, _NO_AGREEMENTS):
            if agreement.in_force(on):
                partners.update(agreement.members)
        partners.discard(region)
        return frozenset(partners)

    def shared_items(self, a: str, b: str, on: date) -> frozenset[str]:
        """Every item shared between ``a`` and ``b`` on ``on``, national ones included."""
        if a == b:
            return frozenset()
        items = {
            item
            for item, agreements in self._national.items()
            if any(agreement.in_force(on) for agreement in agreements)
        }
        for agreement in self._by_region.get(a, _NO_AGREEMENTS):
            if b in agreement.members and agreement.in_force(on):
                items.update(agreement.items)
        return frozenset(items)

    def targets_for(self, item: str, source: str, on: date) -> frozenset[str]:
        """Regions that ``source`` may share a case of ``item`` with on ``on``."""
        for agreement in self._national.get(item, _NO_AGREEMENTS):
            if agreement.in_force(on):
                return self._region_codes - {source}
        targets: set[str] = set()
        for agreement in self._by_region.get(source, _NO_AGREEMENTS):
            if item in agreement.items and agreement.in_force(on):
                targets.update(agreement.members)
        targets.discard(source)
        return frozenset(targets)
