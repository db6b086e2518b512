"""``casesync replay`` and ``topic tail`` against the real broker and database."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from casesync.adapters.topics import TopicNames
from casesync.cli import main
from casesync.ops.errors import RecordingOfAnotherRegion
from casesync.ops.recording import Recording, write
from casesync.ops.topic_reader import RawRecord
from casesync.testing_regions import RegionFactory, TestRegion

from .conftest import RUDONG, TONGXIANG, Cli, housing_cases, json_lines

pytestmark = pytest.mark.integration


def test_export_then_apply_to_a_fresh_database_matches_the_live_partner(
    region_factory: RegionFactory,
    database_factory: Callable[[str], str],
    cli: Cli,
    tmp_path: Path,
) -> None:
    """A recording of Rudong's topic applied to a fresh Tongxiang database (no broker) gives the
    live Tongxiang's mirror digest; applying it again applies nothing."""
    rudong, live = region_factory(RUDONG), region_factory(TONGXIANG)
    events = rudong.simulate(40, seed=3, partners=[TONGXIANG])
    rudong.relay()
    live.consume()
    out = tmp_path / "rudong.avro"
    code, text = cli(rudong, "replay", "export", "--topic", _inbox(rudong), "--out", str(out))
    assert (code, text.split()[0]) == (0, str(events))

    fresh = RegionFactory(rudong.settings.kafka, database_factory,
                          rudong.settings.topic_prefix)(TONGXIANG)  # fmt: skip
    code, text = cli(fresh, "replay", "apply", str(out), "--region", TONGXIANG)
    assert code == 0
    assert f"{events} applied now" in text
    assert fresh.mirror_digest(RUDONG) == live.mirror_digest(RUDONG) == rudong.owned_digest()
    _, text = cli(fresh, "replay", "apply", str(out), "--region", TONGXIANG)
    assert f"{events} applied before, 0 applied now" in text


def test_export_by_offsets_and_publish_keep_partition_key_headers_and_value(
    region_factory: RegionFactory, unique_name: Callable[[str], str], cli: Cli, tmp_path: Path
) -> None:
    """An offset range exports just those records; publishing a recording to another topic and
    recording that again gives the same partitions, keys, headers and values."""
    rudong = region_factory(RUDONG)
    rudong.simulate(20, seed=5, partners=[TONGXIANG])
    rudong.relay()
    first = tmp_path / "first.avro"
    cli(rudong, "replay", "export", "--topic", _inbox(rudong), "--from-offset", "2",
        "--to-offset", "5", "--out", str(first))  # fmt: skip
    with first.open("rb") as f:
        offsets = {(r.partition, r.offset) for r in Recording(f)}
    assert offsets
    assert {o for _, o in offsets} <= {2, 3, 4}

    everything = tmp_path / "all.avro"
    cli(rudong, "replay", "export", "--topic", _inbox(rudong), "--out", str(everything))
    other = region_factory.__class__(
        rudong.settings.kafka, region_factory.make_database, unique_name("t") + ".",
        topics=region_factory.topics,  # as many partitions as the recorded topic
    )(RUDONG)  # fmt: skip
    code, _ = cli(other, "replay", "publish", str(everything), "--topic", _inbox(other))
    assert code == 0
    again = tmp_path / "again.avro"
    cli(other, "replay", "export", "--topic", _inbox(other), "--out", str(again))

    def content(path: Path) -> list[tuple[object, ...]]:
        with path.open("rb") as f:
            return sorted((r.partition, r.offset, r.key, r.value, r.headers) for r in Recording(f))

    assert content(again) == content(everything)


def test_tail_prints_decoded_events_with_personal_data_masked(
    region_factory: RegionFactory, cli: Cli
) -> None:
    """``topic tail --from-beginning --limit 3`` prints three decoded events as JSON lines, ID
    numbers masked; ``--show-personal-data`` prints them."""
    rudong = region_factory(RUDONG)
    rudong.simulate(10, seed=11, partners=[TONGXIANG])
    rudong.relay()
    code, out = cli(rudong, "topic", "tail", _inbox(rudong), "--from-beginning", "--limit", "3")
    lines = json_lines(out)
    assert code == 0
    assert len(lines) == 3
    applicants = [line["value"]["snapshot"]["applicant"] for line in lines]
    assert all(a["id_number"] in (None, "***") and a["credit_code"] in (None, "***")
               for a in applicants)  # fmt: skip
    _, out = cli(rudong, "topic", "tail", _inbox(rudong), "--limit", "50", "--show-personal-data")
    shown = [line["value"]["snapshot"]["applicant"] for line in json_lines(out)]
    assert any((a["id_number"] or a["credit_code"] or "***") != "***" for a in shown)


def test_a_recording_of_one_inbox_is_refused_for_another_region(
    region_factory: RegionFactory, cli: Cli, tmp_path: Path
) -> None:
    """A recording of Tongxiang's inbox applied to Suzhou is refused with a typed error naming
    the inbox, and Suzhou's database gets nothing."""
    rudong = region_factory(RUDONG)
    rudong.simulate(10, seed=9, partners=[TONGXIANG])
    rudong.relay()
    out = tmp_path / "tongxiang.avro"
    cli(rudong, "replay", "export", "--topic", _inbox(rudong), "--out", str(out))
    suzhou = region_factory("320500")
    with pytest.raises(RecordingOfAnotherRegion, match=f"{TONGXIANG}'s inbox"):
        suzhou.replay(out)
    assert suzhou.query("SELECT count(*) FROM mirror_cases") == [(0,)]


def test_bad_files_and_ranges_are_one_line_each(
    region_factory: RegionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A missing or non-Avro recording, an unwritable output and a partition the topic lacks
    each give exit 2 and one stderr line, never a traceback."""
    rudong = region_factory(RUDONG)
    rudong.simulate(2, seed=1, partners=[TONGXIANG])
    rudong.relay()
    for name, value in rudong.settings.kafka.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CASESYNC_DATABASE_URL", rudong.url)
    monkeypatch.setenv("CASESYNC_TOPIC_PREFIX", rudong.settings.topic_prefix)
    not_avro = tmp_path / "notes.txt"
    not_avro.write_text("not a recording")
    attempts = {
        "missing": ("replay", "apply", str(tmp_path / "none.avro"), "--region", TONGXIANG),
        "not avro": ("replay", "apply", str(not_avro), "--region", TONGXIANG),
        "unwritable": ("replay", "export", "--topic", _inbox(rudong),
                       "--out", str(tmp_path / "no" / "dir.avro")),
        "no partition": ("replay", "export", "--topic", _inbox(rudong), "--partition", "99",
                         "--out", str(tmp_path / "p.avro")),
    }  # fmt: skip
    said = {}
    for name, argv in attempts.items():
        capsys.readouterr()
        code = main(["--log-level", "WARNING", *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2, name
        assert len(err) == 1, (name, err)
        assert err[0].startswith("casesync: "), (name, err)
        said[name] = err[0]
    assert "none.avro" in said["missing"]
    assert "not an Avro object container file" in said["not avro"]
    assert "no/dir.avro" in said["unwritable"]
    assert "partitions 0-5, not 99" in said["no partition"]


@pytest.mark.parametrize("part", ["value", "header"])
def test_an_edited_recording_refuses_the_edited_record_and_applies_the_rest(
    region_factory: RegionFactory,
    database_factory: Callable[[str], str],
    cli: Cli,
    tmp_path: Path,
    part: str,
) -> None:
    """One byte changed in one record's value (or its covered ``event_id`` header) in a
    recording of signed records: ``replay apply`` into a fresh database dead-letters that record
    in stage verify as BadSignature, counts it, never mirrors its case, and applies every other
    record, the later ones of the same partition included; applied again, nothing changes."""
    rudong = region_factory(RUDONG)
    rudong.record(housing_cases(0, 12, steps=1))
    assert rudong.relay() == 12
    recorded = tmp_path / "tongxiang.avro"
    code, _ = cli(rudong, "replay", "export", "--topic", _inbox(rudong), "--out", str(recorded))
    assert code == 0
    with recorded.open("rb") as f:
        recording = Recording(f)
        info, records = recording.info, list(recording)
    by_partition: dict[int, list[RawRecord]] = {}
    for r in records:
        by_partition.setdefault(r.partition, []).append(r)
    victim = next(rs[0] for rs in by_partition.values() if len(rs) >= 2)
    later = [r.key for r in by_partition[victim.partition][1:]]
    edited = tmp_path / "edited.avro"
    with edited.open("wb") as f:
        write(f, info, [_edited(r, part) if r is victim else r for r in records])

    fresh = RegionFactory(rudong.settings.kafka, database_factory,
                          rudong.settings.topic_prefix)(TONGXIANG)  # fmt: skip
    code, text = cli(fresh, "replay", "apply", str(edited), "--region", TONGXIANG)
    assert code == 0
    assert "11 applied now" in text
    assert "1 dead-lettered" in text
    assert fresh.query("SELECT stage, error_class FROM dead_letters") == [
        ("verify", "BadSignature")
    ]
    mirrored = {case_id for (case_id,) in fresh.query("SELECT case_id FROM mirror_cases")}
    assert victim.key is not None
    assert victim.key.decode() not in mirrored
    assert {k.decode() for k in later if k is not None} <= mirrored
    assert len(mirrored) == 11
    code, text = cli(fresh, "replay", "apply", str(edited), "--region", TONGXIANG)
    assert "12 applied before, 0 applied now" in text
    assert fresh.query("SELECT count(*) FROM dead_letters") == [(1,)]


def _edited(record: RawRecord, part: str) -> RawRecord:
    """``record`` with the last byte of its value, or of its ``event_id`` header, flipped."""

    def flip(data: bytes | None) -> bytes:
        assert data
        return data[:-1] + bytes([data[-1] ^ 0x01])

    if part == "value":
        return dataclasses.replace(record, value=flip(record.value))
    headers = tuple((k, flip(v) if k == "event_id" else v) for k, v in record.headers)
    assert headers != record.headers
    return dataclasses.replace(record, headers=headers)


def _inbox(region: TestRegion) -> str:
    """Tongxiang's inbox under ``region``'s topic prefix (where Rudong's test cases go)."""
    return TopicNames(region.settings.topic_prefix).inbox(TONGXIANG)
