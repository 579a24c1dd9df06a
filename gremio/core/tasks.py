"""Core's scheduled upkeep."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .jobs import schedule
from .models import ScheduledRun

KEEP_DAYS = 30


@schedule(name="core.prune_task_results", frequency="daily", hour=3, per_organisation=False)
def prune_task_results() -> int:
    """Delete queue rows of tasks that finished over 30 days ago, and old schedule marks.

    ``Job`` rows, which people see, are kept.
    """
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=KEEP_DAYS)
    deleted = 0
    if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    ScheduledRun.objects.filter(enqueued__lt=cutoff - timedelta(days=60)).delete()
    return deleted
