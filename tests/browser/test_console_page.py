"""The ops console as a person sees it in a browser, while real regions exchange events."""

from __future__ import annotations

import pytest

from casesync.adapters.kafka_clients import new_producer
from casesync.adapters.postgres import connect, transaction
from casesync.adapters.topics import TopicNames
from tests.browser.conftest import RUDONG, TONGXIANG, Browser, Federation

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def region_verdict(page: list[dict[str, str]], code: str) -> str | None:
    cards = [e for e in page if "card" in e.get("class", "") and e.get("data-region") == code]
    return cards[0]["data-verdict"] if cards else None


def test_the_flow_between_two_regions_appears_with_its_rate(
    federation: Federation, browser: Browser
) -> None:
    """Rudong's cases reaching Tongxiang draw the Rudong–Tongxiang flow with events/s > 0 over the
    backdrop of the mainland's division seats, and both regions' cards."""

    def flowing(page: list[dict[str, str]]) -> bool:
        return any(e.get("data-flow") == f"{RUDONG}-{TONGXIANG}"
                   and float(e.get("data-rate", "0")) > 0 for e in page)  # fmt: skip

    page = browser.wait_for(federation.console_url, flowing, 180, "a flow with events/s")
    assert region_verdict(page, RUDONG) is not None
    assert region_verdict(page, TONGXIANG) is not None
    seats = [e["d"] for e in page if e.get("class") == "seats"]
    assert seats, "no backdrop of division seats on the map"
    assert seats[0].count("M") > 100


def test_a_dead_letter_shows_under_its_class(federation: Federation, browser: Browser) -> None:
    """A record Tongxiang must refuse (unsigned, not even an event) is dead-lettered and listed
    under its stage and class."""
    producer = new_producer(federation.settings.kafka)
    inbox = TopicNames(federation.settings.topic_prefix).inbox(TONGXIANG)
    producer.send(inbox, key=b"320623-broken", value=b"not an event",
                  headers=[("source_region", RUDONG.encode()),
                           ("target_region", TONGXIANG.encode())]).get(timeout=30)  # fmt: skip
    producer.close()

    def dead_letter() -> tuple[str, str] | None:
        conn = connect(federation.url(TONGXIANG))
        try:
            with transaction(conn) as cur:
                cur.execute("SELECT stage, error_class FROM dead_letters ORDER BY id LIMIT 1")
                row = cur.fetchone()
                return None if row is None else (str(row[0]), str(row[1]))
        finally:
            conn.close()

    def listed(page: list[dict[str, str]]) -> bool:
        found = dead_letter()
        return found is not None and any(
            (e.get("data-stage"), e.get("data-class")) == found for e in page
        )

    browser.wait_for(federation.console_url, listed, 180, "the dead letter under its class")


def test_a_stopped_consumer_turns_its_region_to_stall_or_stop(
    federation: Federation, browser: Browser
) -> None:
    """With Tongxiang's consumer stopped while Rudong keeps publishing, Tongxiang's card (and
    the flow) turn STALL or STOP; Rudong's card does not."""
    federation.stop("tongxiang-consume")

    def stalled(page: list[dict[str, str]]) -> bool:
        return region_verdict(page, TONGXIANG) in {"STALL", "STOP"}

    page = browser.wait_for(federation.console_url, stalled, 180, "Tongxiang STALL or STOP")
    assert region_verdict(page, RUDONG) not in {"STALL", "STOP", "ERR"}
    flow = next(e for e in page if e.get("data-flow") == f"{RUDONG}-{TONGXIANG}")
    assert flow["data-verdict"] in {"STALL", "STOP"}
