"""The catalogue: regions, items, agreements and workflows, loaded once, asked per event.

Every lookup is a dict access: the consumer checks each event against this at high rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType

from casesync.domain.agreements import Agreement, AgreementIndex
from casesync.domain.errors import UnknownItem, UnknownRegion, UnknownWorkflow
from casesync.domain.items import MaterialSpec, ServiceItem
from casesync.domain.regions import Region
from casesync.domain.workflows import Workflow


class Catalogue:
    """Immutable reference data with O(1) lookups; build it with ``load_catalogue``."""

    __slots__ = (
        "_agreement_index",
        "_local_to_national",
        "_materials",
        "_national_to_local",
        "agreements",
        "items",
        "regions",
        "workflows",
    )

    def __init__(
        self,
        regions: Iterable[Region],
        items: Iterable[ServiceItem],
        agreements: Iterable[Agreement],
        workflows: Iterable[Workflow],
        materials: Mapping[tuple[str, str], tuple[MaterialSpec, ...]],
        local_codes: Mapping[tuple[str, str], str],
    ) -> None:
        """Index the data; ``materials`` and ``local_codes`` are keyed (item, region)."""
        self.regions: Mapping[str, Region] = MappingProxyType({r.code: r for r in regions})
        self.items: Mapping[str, ServiceItem] = MappingProxyType({i.code: i for i in items})
        self.agreements: Mapping[str, Agreement] = MappingProxyType({a.id: a for a in agreements})
        self.workflows: Mapping[str, Workflow] = MappingProxyType({w.id: w for w in workflows})
        self._materials = dict(materials)
        self._national_to_local = dict(local_codes)
        self._local_to_national = {
            (region, local): item for (item, region), local in local_codes.items()
        }
        self._agreement_index = AgreementIndex(self.agreements.values(), self.regions)

    def region(self, code: str) -> Region:
        """The region with this code; UnknownRegion if absent."""
        try:
            return self.regions[code]
        except KeyError:
            raise UnknownRegion(f"region {code!r} is not in the catalogue") from None

    def item(self, code: str) -> ServiceItem:
        """The item with this national basic code; UnknownItem if absent."""
        try:
            return self.items[code]
        except KeyError:
            raise UnknownItem(f"item {code!r} is not in the catalogue") from None

    def materials_for(self, item_code: str, region_code: str) -> tuple[MaterialSpec, ...]:
        """The materials ``region_code`` requires for the item (standards differ by region)."""
        self.item(item_code)
        self.region(region_code)
        return self._materials[(item_code, region_code)]

    def local_code(self, item_code: str, region_code: str) -> str | None:
        """The region's own code for the item, or None when it uses the national code."""
        return self._national_to_local.get((item_code, region_code))

    def national_code(self, region_code: str, local_code: str) -> str:
        """Map a region's local item code to the national code at the edge."""
        national = self._local_to_national.get((region_code, local_code))
        if national is not None:
            return national
        if local_code in self.items:
            return local_code
        raise UnknownItem(
            f"{local_code!r} is neither a national item code nor a local one of region "
            f"{region_code}"
        )

    def workflow(self, workflow_id: str) -> Workflow:
        """The declared workflow with this id; UnknownWorkflow if absent."""
        try:
            return self.workflows[workflow_id]
        except KeyError:
            raise UnknownWorkflow(f"workflow {workflow_id!r} is not declared") from None

    def workflow_for(self, item_code: str, on: date) -> Workflow:
        """The version of the item's workflow in force for cases started on ``on``."""
        for workflow_id in self.item(item_code).workflows:
            workflow = self.workflows[workflow_id]
            if workflow.in_force(on):
                return workflow
        raise UnknownWorkflow(f"item {item_code} has no workflow in force on {on}")

    def is_shared(self, item_code: str, source: str, target: str, on: date) -> bool:
        """Whether the item may cross from ``source`` to ``target`` on ``on``.

        The hot path: codes are not checked here (``validate_event`` checks them first).
        """
        return self._agreement_index.is_shared(item_code, source, target, on)

    def partners_of(self, region_code: str, on: date) -> frozenset[str]:
        """Regions with a regional agreement in force with ``region_code`` (national aside)."""
        self.region(region_code)
        return self._agreement_index.partners_of(region_code, on)

    def shared_items(self, a: str, b: str, on: date) -> frozenset[str]:
        """Every item ``a`` and ``b`` share on ``on``, national list included."""
        self.region(a)
        self.region(b)
        return self._agreement_index.shared_items(a, b, on)

    def targets_for(self, item_code: str, source: str, on: date) -> frozenset[str]:
        """Regions ``source`` may share a case of the item with on ``on``."""
        self.item(item_code)
        self.region(source)
        return self._agreement_index.targets_for(item_code, source, on)
