"""The mirror's snapshot text is the value ``snapshot_to_json`` gives, for any snapshot."""

from __future__ import annotations

import json

from hypothesis import given, settings

from casesync.contract.strategies import case_snapshots
from casesync.domain.events import Applicant, CaseSnapshot
from casesync.domain.vocabulary import ApplicantKind
from casesync.snapshots import canonical, snapshot_json_text, snapshot_to_json

from .conftest import EventFactory


@settings(max_examples=300)
@given(snapshot=case_snapshots())
def test_snapshot_text_is_the_snapshot_json(snapshot: CaseSnapshot) -> None:
    value = json.loads(snapshot_json_text(snapshot))
    assert value == snapshot_to_json(snapshot)
    assert canonical(value) == canonical(snapshot_to_json(snapshot))


def test_snapshot_text_escapes_quotes_backslashes_and_controls(make_event: EventFactory) -> None:
    nasty = 'a"b\\c\td\ne\r\x00\x1f\u2028终'
    event = make_event(applicant=Applicant(ApplicantKind.PERSON, nasty, id_number=nasty))
    text = snapshot_json_text(event.snapshot)
    assert not {"\t", "\n", "\r", "\x00"} & set(text)  # one COPY field, one line
    assert json.loads(text)["applicant"]["name"] == nasty
    assert "终" in text  # UTF-8 kept, as canonical() keeps it
