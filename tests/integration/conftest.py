"""Every integration test runs signed: the session's keys and manifest are in the environment
of in-process commands and of the processes tests spawn."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from casesync.testing_trust import TestTrust


@pytest.fixture(scope="session", autouse=True)
def signed_environment(casesync_trust: TestTrust) -> Iterator[None]:
    """The ``CASESYNC_*`` trust variables of the session's keys, set for the whole session."""
    before = {name: os.environ.get(name) for name in casesync_trust.environment()}
    os.environ.update(casesync_trust.environment())
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
