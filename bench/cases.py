"""One benchmark run against the database named by DATABASE_URL (see run.py)."""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ensure_postgres_database(url: str) -> bool:
    import psycopg

    base, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"postgres: not run — {exc.__class__.__name__}: {str(exc).strip().splitlines()[0]}")
        return False
    return True


def fill(changes: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    from gremio.core import services
    from gremio.core.changelog import change_context
    from gremio.core.models import ObjectChange, Organisation, Pillar, RoleAssignment

    rng = random.Random(2026)
    with change_context(None, label="bench"):
        organisations = []
        for slug in ("bench", "bench-other"):
            org = Organisation.objects.filter(slug=slug).first() or services.organisation_create(
                name=f"Benchmark {slug}", slug=slug
            )
            organisations.append(org)
        User = get_user_model()
        users = []
        for i in range(5):
            user, _ = User.objects.get_or_create(email=f"user{i}@bench.example")
            user.set_password("bench-pass-1")
            user.save()
            services.role_grant(organisation=organisations[0], user=user, role="admin")
            users.append(user)
    existing = ObjectChange.objects.count()
    if existing >= changes:
        return
    pillar_type = ContentType.objects.get_for_model(Pillar)
    role_type = ContentType.objects.get_for_model(RoleAssignment)
    pillar_ids = list(
        Pillar.objects.filter(organisation=organisations[0]).values_list("pk", flat=True)
    )
    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    span = int((dt.datetime(2026, 12, 1, tzinfo=dt.UTC) - start).total_seconds())
    actions = ["create", "update", "update", "update", "delete"]
    batch = []
    print(f"  filling {changes - existing:,} change-log rows …", flush=True)
    for i in range(existing, changes):
        org = organisations[0] if rng.random() < 0.8 else organisations[1]
        user = rng.choice(users)
        is_pillar = rng.random() < 0.01
        batch.append(
            ObjectChange(
                organisation=org,
                time=start + dt.timedelta(seconds=rng.randrange(span)),
                user=user,
                user_name=user.email,
                action=rng.choice(actions),
                content_type=pillar_type if is_pillar else role_type,
                object_id=str(rng.choice(pillar_ids) if is_pillar else rng.randrange(1, 50_000)),
                object_repr=f"Record {i}",
                prechange_data={"name": f"old {i}"},
                postchange_data={"name": f"new {i}"},
            )
        )
        if len(batch) == 10_000:
            ObjectChange.objects.bulk_create(batch)
            batch = []
    if batch:
        ObjectChange.objects.bulk_create(batch)


def measure(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches and connections
    times = []
    queries = 0
    status = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
        status = response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, queries, status


def main() -> None:
    name, changes, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    url = os.environ["DATABASE_URL"]
    if name == "postgres" and not ensure_postgres_database(url):
        return
    if name == "sqlite":
        (ROOT / "var").mkdir(exist_ok=True)
        if "--rebuild" in sys.argv:
            for suffix in ("", "-wal", "-shm"):
                Path(str(ROOT / "var" / "bench.sqlite3") + suffix).unlink(missing_ok=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from gremio.core.models import ObjectChange, Pillar

    if name == "postgres" and "--rebuild" in sys.argv:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    fill(changes)
    if name == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    rows = ObjectChange.objects.count()
    print(f"\n{name}: {rows:,} change-log rows (ready in {time.perf_counter() - started:.0f} s)")

    from django.contrib.auth import get_user_model

    client = Client()
    user = get_user_model().objects.get(email="user0@bench.example")
    client.force_login(user)
    pillar = Pillar.objects.filter(organisation__slug="bench").order_by("pk").first()
    assert pillar is not None
    cases = [
        ("start page", "/bench/"),
        ("pillar list", "/bench/pillars/"),
        ("pillar history", f"/bench/pillars/{pillar.pk}/history/"),
        ("change log, first page", "/bench/changes/"),
        ("change log, action=update", "/bench/changes/?action=update"),
        (
            "change log, user + year",
            f"/bench/changes/?user={user.pk}&time_after=2025-01-01&time_before=2025-12-31",
        ),
        ("change log, page 200", "/bench/changes/?page=200"),
        ("change log, search", "/bench/changes/?q=Record%20424242"),
        ("API change log", "/api/v1/bench/changes/"),
        ("API change log, action=delete", "/api/v1/bench/changes/?action=delete"),
    ]
    print(f"{'case':<34}{'median ms':>10}{'p95 ms':>10}{'queries':>9}{'status':>8}")
    for label, path in cases:
        median, p95, queries, status = measure(client, path, repeat)
        print(f"{label:<34}{median:>10.1f}{p95:>10.1f}{queries:>9}{status:>8}")


if __name__ == "__main__":
    main()
