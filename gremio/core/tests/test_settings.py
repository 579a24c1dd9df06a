"""Settings come from the environment; production refuses an insecure key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load_settings(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    environment.update(env, DJANGO_SETTINGS_MODULE=module)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.DATABASES['default']['ENGINE'], settings.ALLOWED_HOSTS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", ["", "insecure-development-key-change-me", "short"])
def test_production_refuses_to_start_without_a_real_secret_key(key: str) -> None:
    result = load_settings("config.settings.production", SECRET_KEY=key)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_reads_database_and_hosts_from_the_environment() -> None:
    result = load_settings(
        "config.settings.production",
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://gremio:pw@db.internal:5432/gremio",
        ALLOWED_HOSTS="gremio.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(" ", 2) == [
        "False",
        "django.db.backends.postgresql",
        "['gremio.example.org']\n",
    ]


def test_embedded_default_is_sqlite_in_wal_mode(settings) -> None:
    result = load_settings("config.settings.dev")
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.sqlite3" in result.stdout
    from django.db import connection

    if connection.vendor == "sqlite":
        options = settings.DATABASES["default"]["OPTIONS"]
        assert options["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in options["init_command"]
