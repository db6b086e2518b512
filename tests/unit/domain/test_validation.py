"""Validation of decoded events against the catalogue and the case's last applied state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import (
    Disposition,
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
from casesync.domain.events import Applicant
from casesync.domain.validation import (
    check_addressed,
    check_sequence,
    validate_event,
    validate_outgoing,
)
from casesync.domain.vocabulary import ApplicantKind, CaseState, EventType, HandlingMode

from .conftest import (
    FAKE_ID_NUMBER,
    PENSION_TRANSFER,
    RUDONG,
    SUZHOU,
    TONGXIANG,
    VEHICLE_INSPECTION,
    YINCHUAN,
    EventFactory,
)


def test_valid_event_returns_its_item(catalogue: Catalogue, make_event: EventFactory) -> None:
    """A Rudong pension-transfer event is accepted by Tongxiang."""
    item = validate_event(make_event(), catalogue, receiver=TONGXIANG, sent_by=RUDONG)
    assert item.code == PENSION_TRANSFER


def test_source_header_disagreeing_with_the_event_is_spoofed(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """An event claiming Rudong in a record whose source header names Suzhou, or no region,
    raises SpoofedSource."""
    with pytest.raises(SpoofedSource):
        validate_event(make_event(), catalogue, receiver=TONGXIANG, sent_by=SUZHOU)
    with pytest.raises(SpoofedSource):
        validate_event(make_event(), catalogue, receiver=TONGXIANG, sent_by=None)


def test_record_addressed_elsewhere_is_misaddressed(make_event: EventFactory) -> None:
    """A record whose target header names another region, or none, or that carries an event
    not shared with its reader raises Misaddressed; one addressed to a target passes."""
    event = make_event()
    assert TONGXIANG in event.target_regions
    check_addressed(event, TONGXIANG, TONGXIANG)
    for addressee in (SUZHOU, None):
        with pytest.raises(Misaddressed):
            check_addressed(event, TONGXIANG, addressee)
    with pytest.raises(Misaddressed):
        check_addressed(event, YINCHUAN, YINCHUAN)


def test_unknown_regions(catalogue: Catalogue, make_event: EventFactory) -> None:
    """An unknown source or receiver raises UnknownRegion."""
    event = make_event(source_region="999999")
    with pytest.raises(UnknownRegion):
        validate_event(event, catalogue, receiver=TONGXIANG, sent_by="999999")
    with pytest.raises(UnknownRegion):
        validate_event(make_event(), catalogue, receiver="999999", sent_by=RUDONG)


def test_unknown_item(catalogue: Catalogue, make_event: EventFactory) -> None:
    """An item code absent from the catalogue raises UnknownItem."""
    with pytest.raises(UnknownItem):
        validate_event(make_event(item_code="009999999000"), catalogue, TONGXIANG, sent_by=RUDONG)


def test_item_not_in_an_agreement_with_the_receiver(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """Vehicle inspection is Rudong–Tongxiang only: Yinchuan may not receive it."""
    event = make_event(
        item_code=VEHICLE_INSPECTION,
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "张三"),
    )
    validate_event(event, catalogue, receiver=TONGXIANG, sent_by=RUDONG)
    with pytest.raises(ItemNotShared):
        validate_event(event, catalogue, receiver=YINCHUAN, sent_by=RUDONG)


def test_sharing_is_judged_on_the_china_local_date(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """At 16:30 UTC on 2021-03-24 it is already 2021-03-25 in China, when Suzhou–Yinchuan starts."""
    food_licence = "000131008000"
    event = make_event(
        source_region=SUZHOU,
        item_code=food_licence,
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.COMPANY, "某公司", credit_code="91320500MA1XXXXXXX"),
        occurred_at=datetime(2021, 3, 24, 16, 30, tzinfo=UTC),
    )
    validate_event(event, catalogue, receiver=YINCHUAN, sent_by=SUZHOU)
    earlier = make_event(
        source_region=SUZHOU,
        item_code=food_licence,
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.COMPANY, "某公司", credit_code="91320500MA1XXXXXXX"),
        occurred_at=datetime(2021, 3, 24, 15, 59, tzinfo=UTC),
    )
    with pytest.raises(ItemNotShared):
        validate_event(earlier, catalogue, receiver=YINCHUAN, sent_by=SUZHOU)


def test_mode_not_offered(catalogue: Catalogue, make_event: EventFactory) -> None:
    """Pension transfer is not offered fully online: ModeNotOffered."""
    event = make_event(handling_mode=HandlingMode.FULLY_ONLINE)
    with pytest.raises(ModeNotOffered):
        validate_event(event, catalogue, receiver=TONGXIANG, sent_by=RUDONG)


def test_unneeded_id_number_is_refused_without_echoing_it(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """An ID number on a vehicle-inspection event raises, and the message omits the number."""
    event = make_event(item_code=VEHICLE_INSPECTION, handling_mode=HandlingMode.FULLY_ONLINE)
    with pytest.raises(PersonalDataNotAllowed) as caught:
        validate_event(event, catalogue, receiver=TONGXIANG, sent_by=RUDONG)
    assert FAKE_ID_NUMBER not in str(caught.value)
    assert "id_number" in str(caught.value)


def test_outgoing_targets_must_share_the_item(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """A producer may not address a regional item to a region outside the agreement."""
    event = make_event(
        item_code=VEHICLE_INSPECTION,
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "张三"),
        target_regions=(TONGXIANG, YINCHUAN),
    )
    with pytest.raises(ItemNotShared):
        validate_outgoing(event, catalogue)


def test_sequence_accepts_the_next_version(make_event: EventFactory) -> None:
    """Version n+1 with a legal transition returns the new state."""
    assert check_sequence(None, None, make_event()) is CaseState.SUBMITTED
    accepted = make_event(
        case_version=2, event_type=EventType.CASE_ACCEPTED, state=CaseState.ACCEPTED
    )
    assert check_sequence(1, CaseState.SUBMITTED, accepted) is CaseState.ACCEPTED


def test_replayed_event_is_a_regression_to_ignore(make_event: EventFactory) -> None:
    """Seeing version 1 again after applying it raises VersionRegression, disposition IGNORE."""
    with pytest.raises(VersionRegression) as caught:
        check_sequence(1, CaseState.SUBMITTED, make_event())
    assert caught.value.disposition is Disposition.IGNORE


def test_skipped_version_is_a_visible_gap(make_event: EventFactory) -> None:
    """Version 3 after version 1 raises VersionGap carrying expected and received versions."""
    event = make_event(case_version=3, event_type=EventType.CASE_ACCEPTED)
    with pytest.raises(VersionGap) as caught:
        check_sequence(1, CaseState.SUBMITTED, event)
    assert (caught.value.expected, caught.value.received) == (2, 3)
    assert caught.value.disposition is Disposition.HOLD_VISIBLE


def test_illegal_transition_goes_to_dead_letter(make_event: EventFactory) -> None:
    """Approving a merely submitted case raises IllegalTransition, disposition DEAD_LETTER."""
    event = make_event(case_version=2, event_type=EventType.CASE_APPROVED, state=CaseState.APPROVED)
    with pytest.raises(IllegalTransition) as caught:
        check_sequence(1, CaseState.SUBMITTED, event)
    assert caught.value.disposition is Disposition.DEAD_LETTER


def test_snapshot_state_must_match_the_transition(make_event: EventFactory) -> None:
    """An acceptance whose snapshot still says SUBMITTED raises IllegalTransition."""
    event = make_event(case_version=2, event_type=EventType.CASE_ACCEPTED)
    with pytest.raises(IllegalTransition, match="snapshot"):
        check_sequence(1, CaseState.SUBMITTED, event)


def test_version_below_one_is_malformed(make_event: EventFactory) -> None:
    """A case version of 0 raises MalformedEvent."""
    with pytest.raises(MalformedEvent):
        check_sequence(None, None, make_event(case_version=0))
