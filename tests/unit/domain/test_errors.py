"""The domain error classes the consumer branches on."""

from __future__ import annotations

import inspect

from casesync.domain import errors
from casesync.errors import CasesyncError


def _error_classes() -> list[type[errors.DomainError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.DomainError)
    ]


def test_no_domain_error_is_retriable() -> None:
    """Every domain error says retriable = False: retrying cannot fix bad data."""
    classes = _error_classes()
    assert len(classes) >= 12
    assert all(cls.retriable is False for cls in classes)


def test_every_error_has_a_one_line_docstring() -> None:
    """Each error class documents itself in one line."""
    for cls in _error_classes():
        assert cls.__doc__, cls.__name__
        assert "\n" not in cls.__doc__.strip(), cls.__name__


def test_domain_errors_are_casesync_errors() -> None:
    """A consumer catching CasesyncError also catches domain errors."""
    assert issubclass(errors.DomainError, CasesyncError)
