"""Database triggers that keep posted journal entries immutable.

Python refuses to change a posted entry; these make the database refuse it
too, whoever connects: an UPDATE or DELETE of a posted entry, or of a line of
one, and a new line added to a posted entry, all fail with an error. Drafts
stay editable, and posting itself (draft → posted) is an UPDATE of a draft.

PostgreSQL's TRUNCATE (used by ``manage.py flush``) fires no row trigger;
SQLite's flush deletes rows, so the test suite drops the triggers around a
flush (``conftest.py``) and puts them back.
"""

from __future__ import annotations

from typing import Any

MESSAGE = "posted journal entries cannot be changed or deleted; reverse them instead"

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS finance_entry_posted_update
    BEFORE UPDATE ON finance_journalentry FOR EACH ROW WHEN OLD.state = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS finance_entry_posted_delete
    BEFORE DELETE ON finance_journalentry FOR EACH ROW WHEN OLD.state = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS finance_line_posted_update
    BEFORE UPDATE ON finance_journalline FOR EACH ROW
    WHEN (SELECT state FROM finance_journalentry WHERE id = OLD.entry_id) = 'posted'
      OR (SELECT state FROM finance_journalentry WHERE id = NEW.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS finance_line_posted_delete
    BEFORE DELETE ON finance_journalline FOR EACH ROW
    WHEN (SELECT state FROM finance_journalentry WHERE id = OLD.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS finance_line_posted_insert
    BEFORE INSERT ON finance_journalline FOR EACH ROW
    WHEN (SELECT state FROM finance_journalentry WHERE id = NEW.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "finance_entry_posted_update",
        "finance_entry_posted_delete",
        "finance_line_posted_update",
        "finance_line_posted_delete",
        "finance_line_posted_insert",
    )
]

POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION finance_refuse_posted_entry() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE OR REPLACE FUNCTION finance_refuse_posted_line() RETURNS trigger AS $$
    DECLARE
        entry_ids bigint[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            entry_ids := ARRAY[NEW.entry_id];
        ELSIF TG_OP = 'UPDATE' THEN
            entry_ids := ARRAY[OLD.entry_id, NEW.entry_id];
        ELSE
            entry_ids := ARRAY[OLD.entry_id];
        END IF;
        IF EXISTS (SELECT 1 FROM finance_journalentry
                   WHERE id = ANY(entry_ids) AND state = 'posted') THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS finance_entry_posted ON finance_journalentry",
    """
    CREATE TRIGGER finance_entry_posted
    BEFORE UPDATE OR DELETE ON finance_journalentry
    FOR EACH ROW WHEN (OLD.state = 'posted')
    EXECUTE FUNCTION finance_refuse_posted_entry()
    """,
    "DROP TRIGGER IF EXISTS finance_line_posted ON finance_journalline",
    """
    CREATE TRIGGER finance_line_posted
    BEFORE INSERT OR UPDATE OR DELETE ON finance_journalline
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_posted_line()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS finance_entry_posted ON finance_journalentry",
    "DROP TRIGGER IF EXISTS finance_line_posted ON finance_journalline",
    "DROP FUNCTION IF EXISTS finance_refuse_posted_entry()",
    "DROP FUNCTION IF EXISTS finance_refuse_posted_line()",
]


def statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    return []


def create_triggers(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, create=True):
            cursor.execute(sql)


def drop_triggers(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, create=False):
            cursor.execute(sql)
