"""Fault tests stop, freeze and restart the real services: they need the local launchers.

``make test-faults`` runs them on a stack of their own (``.run/faults``, its own ports), so the
services of ``make up`` are never touched.
"""

from __future__ import annotations

import pytest

from casesync.testing import Services


@pytest.fixture(autouse=True)
def _local_services_only(casesync_services: Services) -> None:
    if casesync_services.provider != "local":
        pytest.fail(
            "fault tests stop and start the broker and the database: run them with the local "
            f"launchers (`make test-faults`), not {casesync_services.provider} services"
        )
