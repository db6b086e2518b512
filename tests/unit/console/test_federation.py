"""The console's pure views: region cards, flows between regions, the hour of history, gauges."""

from __future__ import annotations

from datetime import date
from typing import Any

from casesync.console.federation import flows, overall, region_card
from casesync.console.gauges import ConsoleGauges
from casesync.console.history import History
from casesync.console.places import coordinates
from casesync.domain.loading import shipped_catalogue

ON = date(2026, 3, 2)


def report(region: str, verdict: str = "OK", **parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "region": region, "checked_at": "2026-03-02T01:00:00+00:00", "errors": [],
        "verdict": verdict, "partitions": [],
        "outbox": {"backlog": 0, "oldest_age_seconds": None, "verdict": "OK", "reason": "ok"},
        "dead_letters": {"total": 0, "unpublished": 0, "open": 0, "by_class": []},
        "overdue": {"today": "2026-03-02", "owned": 0, "mirror": 0, "cases": []},
        "applied": {"window_seconds": 10, "per_second": 0.0, "latency_p50_s": None,
                    "latency_p99_s": None, "by_source": []},
        "workflows": [],
    }  # fmt: skip
    return {**base, **parts}


def partition(lag: int, lag_seconds: float, verdict: str) -> dict[str, Any]:
    return {"lag": lag, "lag_seconds": lag_seconds, "verdict": verdict, "reason": f"r {verdict}"}


def test_a_card_sums_the_lag_and_keeps_the_worst_partition_verdict() -> None:
    """Inbox lag is the sum over partitions, its age the oldest, its verdict the worst."""
    card = region_card(
        report("330483", "STALL",
               partitions=[partition(5, 3.0, "OK"), partition(7, 40.0, "STALL")]),
        "桐乡市", coordinates("330483"),
    )  # fmt: skip
    assert card["inbox"] == {"verdict": "STALL", "lag": 12, "lag_seconds": 40.0,
                             "reasons": ["r STALL"]}  # fmt: skip
    assert (card["lon"], card["lat"]) == coordinates("330483")


def test_an_unreachable_region_is_err_on_its_card() -> None:
    """A report with errors and no parts makes an ERR card, not a crash."""
    card = region_card({"region": "640100", "errors": ["PostgreSQL unreachable"],
                        "verdict": "ERR"}, "银川市", None)  # fmt: skip
    assert card["verdict"] == "ERR"
    assert card["inbox"]["verdict"] == "ERR"
    assert card["outbox"] is None
    assert card["lon"] is None


def test_flows_join_agreed_partners_with_their_rates_and_worst_verdict() -> None:
    """Rudong–Tongxiang have an agreement: one flow, each way's rate from the receiver's
    applied counts, coloured by the worse of the two regions; unrelated quiet pairs are left out."""
    reports = {
        "320623": report("320623", "OK", applied={"by_source": [
            {"source": "330483", "count": 20, "per_second": 2.0}]}),
        "330483": report("330483", "STOP", applied={"by_source": [
            {"source": "320623", "count": 50, "per_second": 5.0}]}),
        "640100": report("640100"),
    }  # fmt: skip
    found = flows(reports, shipped_catalogue(), ON)
    assert found == [{"a": "320623", "b": "330483", "agreement": True, "verdict": "STOP",
                      "a_to_b_per_second": 5.0, "b_to_a_per_second": 2.0}]  # fmt: skip


def test_traffic_without_a_regional_agreement_is_a_flow_too() -> None:
    """National-list events between regions with no agreement of their own still draw a flow."""
    reports = {
        "320500": report("320500"),
        "330483": report("330483", applied={"by_source": [
            {"source": "320500", "count": 1, "per_second": 0.1}]}),
    }  # fmt: skip
    (flow,) = flows(reports, shipped_catalogue(), ON)
    assert flow["agreement"] is False
    assert flow["a_to_b_per_second"] == 0.1


def test_history_keeps_one_hour_in_chart_columns() -> None:
    """Points older than the span are dropped; columns start with the times."""
    history = History(span_s=3600)
    applied = {"per_second": 4.5, "latency_p50_s": 0.02, "latency_p99_s": 0.2}
    card = region_card(report("330483", applied=applied), "桐乡市", None)
    for at in (0.0, 1800.0, 3700.0):
        history.add(at, {"330483": card})
    columns = history.columns("330483")
    assert columns["t"] == [1800.0, 3700.0]
    assert columns["applied_per_second"] == [4.5, 4.5]
    assert columns["latency_p99_s"] == [0.2, 0.2]
    assert history.columns("640100")["t"] == []


def test_the_overall_verdict_is_the_worst_region() -> None:
    """One stopped region makes the federation STOP."""
    assert overall([{"verdict": "OK"}, {"verdict": "STOP"}, {"verdict": "WARN"}]) == "STOP"
    assert overall([]) == "OK"


def test_every_catalogue_region_has_coordinates_in_china() -> None:
    """The map can place every region the catalogue knows."""
    for region in shipped_catalogue().regions.values():
        lon, lat = coordinates(region.code) or (0.0, 0.0)
        assert 73 < lon < 135, region.code
        assert 18 < lat < 54, region.code


def test_the_console_gauges_follow_the_latest_cards() -> None:
    """Overdue cases and open dead letters become gauges by region; a class redriven away
    disappears at the next sample."""
    dead = {"total": 3, "unpublished": 0, "open": 3, "by_class": [
        {"stage": "decode", "error_class": "NotSingleObject", "count": 3}]}  # fmt: skip
    overdue = {"today": "2026-03-02", "owned": 1, "mirror": 2, "cases": []}
    gauges = ConsoleGauges()
    gauges.update([region_card(report("330483", "WARN", dead_letters=dead, overdue=overdue),
                               "桐乡市", None)])  # fmt: skip
    text = gauges.exposition().decode()
    assert 'casesync_overdue_cases{region="330483",side="mirror"} 2.0' in text
    assert ('casesync_dead_letters_open{error_class="NotSingleObject",region="330483",'
            'stage="decode"} 3.0') in text  # fmt: skip
    assert 'casesync_region_verdict{region="330483"} 1.0' in text
    gauges.update([region_card(report("330483"), "桐乡市", None)])
    assert "NotSingleObject" not in gauges.exposition().decode()
