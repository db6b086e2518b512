"""Pure checks of a decoded CaseEvent against the catalogue and the case's last applied state.

The consumer runs these on every event, so the happy path does dict lookups only and
allocates nothing but the event's China-local date. Each failure is a typed DomainError
whose ``disposition`` tells the consumer to ignore, hold visibly or dead-letter the event.
"""

from __future__ import annotations

from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import (
    IllegalTransition,
    ItemNotShared,
    MalformedEvent,
    Misaddressed,
    ModeNotOffered,
    PersonalDataNotAllowed,
    SpoofedSource,
    UnknownItem,
    UnknownRegion,
    VersionGap,
    VersionRegression,
)
from casesync.domain.events import Applicant, CaseEvent
from casesync.domain.items import ApplicantField, ServiceItem
from casesync.domain.lifecycle import next_state
from casesync.domain.vocabulary import CaseState
from casesync.domain.workdays import china_date


def check_addressed(event: CaseEvent, receiver: str, addressee: str | None) -> None:
    """Check a record that reached ``receiver``'s inbox is meant for it: ``addressee`` (the
    region the record's target header names, None when it has none) is the receiver, and the
    event is shared with the receiver."""
    if addressee != receiver:
        raise Misaddressed(
            f"event {event.event_id} is addressed to {addressee or 'no region'}, read by {receiver}"
        )
    if receiver not in event.target_regions:
        raise Misaddressed(f"event {event.event_id} is not shared with {receiver}")


def validate_event(
    event: CaseEvent, catalogue: Catalogue, receiver: str, sent_by: str | None
) -> ServiceItem:
    """Check an incoming event may be mirrored by ``receiver``; return its catalogue item.

    ``sent_by`` is the region the record's source header names (None when it has none): the
    relay of the event's source region names its own region there, and each region is the
    single writer of its own steps.
    """
    source = event.source_region
    if source != sent_by:
        raise SpoofedSource(
            f"event {event.event_id} claims {source}, sent as {sent_by or 'no region'}"
        )
    regions = catalogue.regions
    if source not in regions:
        raise UnknownRegion(f"event {event.event_id}: source region {source} is unknown")
    if receiver not in regions:
        raise UnknownRegion(f"receiving region {receiver} is unknown")
    item = _check_item(event, catalogue)
    on = china_date(event.occurred_at)
    if not catalogue.is_shared(item.code, source, receiver, on):
        raise ItemNotShared(
            f"event {event.event_id}: item {item.code} is not shared from {source} "
            f"to {receiver} on {on}"
        )
    return item


def validate_outgoing(event: CaseEvent, catalogue: Catalogue) -> ServiceItem:
    """Check an event a region is about to publish: every target must share its item."""
    catalogue.region(event.source_region)
    item = _check_item(event, catalogue)
    on = china_date(event.occurred_at)
    for target in event.target_regions:
        catalogue.region(target)
        if not catalogue.is_shared(item.code, event.source_region, target, on):
            raise ItemNotShared(
                f"event {event.event_id}: item {item.code} is not shared from "
                f"{event.source_region} to {target} on {on}"
            )
    return item


def _check_item(event: CaseEvent, catalogue: Catalogue) -> ServiceItem:
    snapshot = event.snapshot
    item = catalogue.items.get(snapshot.item_code)
    if item is None:
        raise UnknownItem(f"event {event.event_id}: item {snapshot.item_code!r} is unknown")
    if snapshot.handling_mode not in item.handling_modes:
        raise ModeNotOffered(
            f"event {event.event_id}: item {item.code} is not offered {snapshot.handling_mode}"
        )
    _check_minimised(event.event_id, snapshot.applicant, item)
    return item


def _check_minimised(event_id: str, applicant: Applicant, item: ServiceItem) -> None:
    # Name the field, never its value: ID numbers are personal data.
    allowed = item.applicant_fields
    if applicant.id_number is not None and ApplicantField.ID_NUMBER not in allowed:
        raise PersonalDataNotAllowed(
            f"event {event_id}: item {item.code} does not need the applicant's id_number"
        )
    if applicant.credit_code is not None and ApplicantField.CREDIT_CODE not in allowed:
        raise PersonalDataNotAllowed(
            f"event {event_id}: item {item.code} does not need the applicant's credit_code"
        )


def check_sequence(
    previous_version: int | None, previous_state: CaseState | None, event: CaseEvent
) -> CaseState:
    """Check the event follows the last applied one of its case; return the new state.

    Raises, by what the consumer should do:
    VersionRegression (already applied or stale: ignore), VersionGap (earlier events
    missing: hold and show), IllegalTransition or MalformedEvent (never applicable:
    dead-letter). ``previous_version`` and ``previous_state`` are None for a new case.
    """
    if (previous_version is None) != (previous_state is None):
        raise ValueError("previous_version and previous_state are both set or both None")
    version = event.case_version
    if version < 1:
        raise MalformedEvent(f"event {event.event_id}: case version {version} is below 1")
    expected = 1 if previous_version is None else previous_version + 1
    if version < expected:
        raise VersionRegression(event.case_id, expected, version)
    if version > expected:
        raise VersionGap(event.case_id, expected, version)
    snapshot = event.snapshot
    new_state = next_state(snapshot.handling_mode, previous_state, event.event_type)
    if snapshot.state is not new_state:
        raise IllegalTransition(
            f"event {event.event_id}: snapshot says {snapshot.state}, "
            f"but {event.event_type} leads to {new_state}"
        )
    return new_state
