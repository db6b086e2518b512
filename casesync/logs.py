"""structlog set-up, once per process: JSON lines for machines, readable lines on a terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog

# Keys whose values are personal data or secrets; they are masked wherever they are logged.
SENSITIVE_KEYS = frozenset({"id_number", "password", "database_url", "credit_code", "applicant"})


def mask_sensitive(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Processor: replace values of sensitive keys so they never reach a log sink."""
    for key in SENSITIVE_KEYS.intersection(event_dict):
        event_dict[key] = "***"
    return event_dict


# kafka-python logs its whole configuration on DEBUG, the SASL password included.
CLIENT_SECRET_KEYS = frozenset({"sasl_plain_password", "ssl_password"})


def mask_client_secrets(record: logging.LogRecord) -> bool:
    """Handler filter: mask the secrets in a logged configuration mapping; keeps every record."""
    if isinstance(record.args, Mapping) and CLIENT_SECRET_KEYS.intersection(record.args):
        record.args = {k: "***" if k in CLIENT_SECRET_KEYS else v for k, v in record.args.items()}
    return True


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now, so a replaced stream is never held on to."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Configure structlog for this process; ``json=None`` picks by whether stderr is a tty."""
    as_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_sensitive,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    # kafka-python logs every failed connection attempt through stdlib logging; our own log
    # lines say what matters (retries, unreachable services), so its chatter shows only on DEBUG.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if mask_client_secrets not in handler.filters:
            handler.addFilter(mask_client_secrets)
    logging.getLogger("kafka").setLevel(
        logging.DEBUG if level.upper() == "DEBUG" else logging.CRITICAL
    )
