"""Background work that outlasts a request, with progress a page can show.

``start_job`` records a ``Job`` and enqueues a django-tasks task once the
transaction commits; the task reports progress with ``JobReporter``. In
tests the immediate backend runs the task synchronously.

Daily and monthly work is declared with ``schedule`` and enqueued by
``python manage.py scheduler`` (started beside the worker by ``make run``).
A ``ScheduledRun`` row per schedule and period makes each run happen once,
however many scheduler processes there are.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from .changelog import change_context
from .models import Job, Organisation, ScheduledRun

logger = logging.getLogger(__name__)


class JobReporter:
    """What a job's function receives to report its progress."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        fields = {"done": done, "message": message}
        if total is not None:
            fields["total"] = total
        Job.objects.filter(pk=self.job.pk).update(**fields)
        for key, value in fields.items():
            setattr(self.job, key, value)


@task()
def run_job(job_id: int, function_path: str, kwargs: dict[str, Any]) -> Any:
    """The one task behind every Job: runs the function and records the outcome."""
    from django.utils.module_loading import import_string

    job = Job.objects.select_related("user", "organisation").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    function = import_string(function_path)
    try:
        with change_context(job.user, label=f"job:{job.name}"):
            result = function(JobReporter(job), organisation=job.organisation, **kwargs)
    except Exception as exc:
        logger.exception("Job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            message=f"{type(exc).__name__}: {exc}",
            result={"traceback": traceback.format_exc(limit=5)},
            finished=timezone.now(),
        )
        return None
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.DONE, result=result, finished=timezone.now()
    )
    return result


def start_job(
    *, organisation: Organisation, user: Any, name: str, function: Callable[..., Any], **kwargs: Any
) -> Job:
    """Record a job and enqueue it after the current transaction commits.

    ``function(reporter, *, organisation, **kwargs)`` must be importable by
    path and take JSON-serialisable keyword arguments.
    """
    path = f"{function.__module__}.{function.__qualname__}"
    job = Job.objects.create(
        organisation=organisation,
        user=user if getattr(user, "is_authenticated", False) else None,
        name=name,
        task_path=path,
    )

    def enqueue() -> None:
        result = run_job.enqueue(job.pk, path, kwargs)
        Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id))

    transaction.on_commit(enqueue)
    return job


# Schedules --------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    name: str
    function_path: str
    frequency: str  # "daily" or "monthly"
    hour: int = 2  # local hour (settings.TIME_ZONE) after which it runs
    per_organisation: bool = True  # once per organisation, or once for the installation

    def period(self, now: dt.datetime) -> str | None:
        """The period key due at ``now``, or None before the hour."""
        local = timezone.localtime(now)
        if local.hour < self.hour:
            return None
        return local.strftime("%Y-%m-%d") if self.frequency == "daily" else local.strftime("%Y-%m")


SCHEDULES: dict[str, Schedule] = {}


def schedule(
    *, name: str, frequency: str, hour: int = 2, per_organisation: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a daily or monthly job.

    ``function(*, organisation)`` runs once per organisation; with
    ``per_organisation=False``, ``function()`` runs once for the installation.
    """
    if frequency not in ("daily", "monthly"):
        raise ValueError(frequency)

    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        path = f"{function.__module__}.{function.__qualname__}"
        SCHEDULES[name] = Schedule(name, path, frequency, hour, per_organisation)
        return function

    return decorator


@task()
def run_scheduled(function_path: str, organisation_id: int | None) -> Any:
    from django.utils.module_loading import import_string

    function = import_string(function_path)
    with change_context(None, label="scheduler"):
        if organisation_id is None:
            return function()
        return function(organisation=Organisation.objects.get(pk=organisation_id))


def scheduler_tick(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every schedule that is due and has not run for its period yet."""
    now = now or timezone.now()
    enqueued = []
    for item in SCHEDULES.values():
        period = item.period(now)
        if period is None:
            continue
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=item.name, period=period)
        except IntegrityError:
            continue  # Already run for this period.
        if not item.per_organisation:
            run_scheduled.enqueue(item.function_path, None)
        else:
            for organisation_id in Organisation.objects.values_list("pk", flat=True):
                run_scheduled.enqueue(item.function_path, organisation_id)
        enqueued.append(f"{item.name}:{period}")
    return enqueued
