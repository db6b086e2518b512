"""Declared multi-region workflows (多地联办): numbered steps, each owned by one role.

A workflow speaks of roles ("transfer_in", "transfer_out"); one case binds each role to a
concrete region, so "who owns step k" becomes a region code the consumer can compare with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from casesync.domain.errors import UnknownWorkflow
from casesync.domain.events import WorkflowStep


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of a declared workflow."""

    number: int  # 1-based, consecutive
    name: str
    role: str  # which role owns the step, e.g. "transfer_in"
    limit_days: int  # working days allowed for this step
    automatic: bool  # the owning region's system can complete it without a human
    documents: tuple[str, ...] = ()  # documents the step issues, e.g. 《联系函》


@dataclass(frozen=True, slots=True)
class Workflow:
    """A declared workflow for one item, valid for a period (rules change)."""

    id: str
    name: str
    item_code: str
    basis: str  # the rule it follows
    promised_days: int  # 承诺办结时限 for the whole workflow, working days
    roles: Mapping[str, str]  # role -> description (转入地医保经办机构, …)
    steps: tuple[StepSpec, ...]
    effective_from: date | None = None
    effective_until: date | None = None  # inclusive
    note: str | None = None

    def in_force(self, on: date) -> bool:
        """Whether this version of the workflow applies to cases started on ``on``."""
        if self.effective_from is not None and on < self.effective_from:
            return False
        return self.effective_until is None or on <= self.effective_until

    def step(self, number: int) -> StepSpec:
        """The step with this number; UnknownWorkflow if there is none."""
        if not 1 <= number <= len(self.steps):
            raise UnknownWorkflow(f"workflow {self.id} has no step {number}")
        return self.steps[number - 1]

    def next_step(self, after: int) -> StepSpec | None:
        """The step that follows step ``after`` (0 for the first), or None after the last."""
        if after == len(self.steps):
            return None
        return self.step(after + 1)

    def bind(self, **regions: str) -> CaseWorkflow:
        """Bind every role to a region for one case, e.g. ``bind(transfer_in="320623", …)``."""
        missing = self.roles.keys() - regions.keys()
        extra = regions.keys() - self.roles.keys()
        if missing or extra:
            raise UnknownWorkflow(
                f"workflow {self.id} roles are {sorted(self.roles)}; "
                f"missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        return CaseWorkflow(self, MappingProxyType(dict(regions)))


@dataclass(frozen=True, slots=True)
class ResolvedStep:
    """A workflow step with its owner resolved to a region for one case."""

    spec: StepSpec
    owner_region: str

    @property
    def number(self) -> int:
        """The step number."""
        return self.spec.number


@dataclass(frozen=True, slots=True)
class CaseWorkflow:
    """A workflow whose roles are bound to concrete regions for one case."""

    workflow: Workflow
    regions: Mapping[str, str]  # role -> region code

    def owner_of(self, number: int) -> str:
        """The region that must do step ``number``."""
        return self.regions[self.workflow.step(number).role]

    def resolve(self, number: int) -> ResolvedStep:
        """Step ``number`` with its owning region."""
        spec = self.workflow.step(number)
        return ResolvedStep(spec, self.regions[spec.role])

    def next_step(self, after: int) -> ResolvedStep | None:
        """The step after step ``after`` (0 for the first) and who owns it; None when done."""
        spec = self.workflow.next_step(after)
        return None if spec is None else ResolvedStep(spec, self.regions[spec.role])

    def event_step(self, number: int, due: date | None = None) -> WorkflowStep:
        """Step ``number`` as the position an event's snapshot carries."""
        spec = self.workflow.step(number)
        return WorkflowStep(
            workflow=self.workflow.id,
            step=number,
            name=spec.name,
            owner_region=self.regions[spec.role],
            due=due,
        )
