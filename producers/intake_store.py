"""PostgreSQL edge of SQL recording: load the rule tables ``casesync_api.record_change`` reads."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from producers.intake_rules import COLUMNS, RuleRows

RULES_SCHEMA = "casesync_rules"


def load_rules(cur: Any, rules: RuleRows) -> None:
    """Replace every rule row in the caller's transaction: a concurrent ``record_change``
    sees the old rules or the new ones, never a mixture (TRUNCATE locks them until commit)."""
    tables = [sql.Identifier(RULES_SCHEMA, name) for name in COLUMNS]
    cur.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(tables)))
    for name, columns in COLUMNS.items():
        rows = rules.tables[name]
        if not rows:
            continue
        statement = sql.SQL("INSERT INTO {} ({}) VALUES %s").format(
            sql.Identifier(RULES_SCHEMA, name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        execute_values(cur, statement.as_string(cur), rows, page_size=1000)
