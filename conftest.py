"""Fixtures shared by every module's tests, including the browser's."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _flush_past_ledger_triggers() -> Iterator[None]:
    """Let transactional tests empty the ledger on SQLite.

    Posted journal entries are protected by triggers; PostgreSQL's flush uses
    TRUNCATE, which fires none, but SQLite's deletes rows. Around a flush
    (and only then) the triggers are dropped and put back.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from gremio.finance import ledger_sql

    operations = DatabaseWrapper.ops_class
    original = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        ledger_sql.drop_triggers(self.connection)
        try:
            original(self, sql_list)
        finally:
            ledger_sql.create_triggers(self.connection)

    operations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    operations.execute_sql_flush = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Tests read English strings unless they switch language themselves.
    settings.LANGUAGE_CODE = "en"


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found")
    # Playwright runs an event loop in this thread; the test's own ORM calls
    # happen outside it, so Django's async guard would be a false alarm.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
