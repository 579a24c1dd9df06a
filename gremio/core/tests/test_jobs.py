"""Background jobs with progress, and the scheduler of daily and monthly work."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import Any
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import TestCase

from gremio.core import jobs
from gremio.core.models import Job, ObjectChange, Organisation, Pillar, ScheduledRun, User
from gremio.core.roles import Role
from gremio.core.tests.factories import JobFactory, OrganisationFactory, member_of

# Job functions must be importable by path, so they live at module level.


def count_to(reporter: jobs.JobReporter, *, organisation: Organisation, n: int) -> dict[str, Any]:
    for i in range(1, n + 1):
        reporter.progress(i, n, message=f"step {i}")
    return {"counted": n, "organisation": organisation.slug}


def explode(reporter: jobs.JobReporter, *, organisation: Organisation) -> None:
    reporter.progress(1, 4)
    raise RuntimeError("the ledger is on fire")


def make_pillar(reporter: jobs.JobReporter, *, organisation: Organisation) -> int:
    pillar = Pillar.objects.create(organisation=organisation, name_es="De un job", name_en="Job")
    return pillar.pk


CALLS: list[tuple[str, Any]] = []


def scheduled_per_organisation(*, organisation: Organisation) -> None:
    CALLS.append(("org", organisation.slug))


def scheduled_once() -> None:
    CALLS.append(("once", None))


class JobRunTests(TestCase):
    org: Organisation
    admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="jobs")
        cls.admin = member_of(cls.org, Role.ADMIN)

    def test_a_job_runs_after_commit_and_ends_done(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            job = jobs.start_job(
                organisation=self.org, user=self.admin, name="Count", function=count_to, n=5
            )
            job.refresh_from_db()
            assert job.status == Job.Status.QUEUED  # nothing runs before the commit
        assert len(callbacks) == 1
        job.refresh_from_db()
        assert job.status == Job.Status.DONE
        assert job.result == {"counted": 5, "organisation": "jobs"}
        assert (job.done, job.total, job.percent) == (5, 5, 100)
        assert job.message == "step 5"
        assert job.finished is not None
        assert job.task_result_id
        assert job.user == self.admin
        assert job.task_path == "gremio.core.tests.test_jobs.count_to"

    def test_a_failing_job_ends_failed_with_the_message(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            job = jobs.start_job(
                organisation=self.org, user=self.admin, name="Fail", function=explode
            )
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.message == "RuntimeError: the ledger is on fire"
        assert job.result is not None
        assert "RuntimeError" in job.result["traceback"]
        assert job.finished is not None
        assert job.percent == 25
        assert job.is_finished

    def test_changes_made_by_a_job_are_attributed_to_its_user(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            job = jobs.start_job(
                organisation=self.org, user=self.admin, name="Pillar", function=make_pillar
            )
        job.refresh_from_db()
        change = ObjectChange.objects.get(
            content_type=ContentType.objects.get_for_model(Pillar), object_id=str(job.result)
        )
        assert change.action == "create"
        assert change.user == self.admin
        assert change.organisation == self.org

    def test_percent(self) -> None:
        assert Job(total=0, done=0).percent == 0
        assert Job(total=3, done=1).percent == 33
        assert Job(total=3, done=1, status=Job.Status.DONE).percent == 100


class JobPagesTests(TestCase):
    org: Organisation
    other: Organisation
    admin: User
    ana: User
    beto: User
    outsider: User
    anas_job: Job
    betos_job: Job
    foreign_job: Job

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="jobpages")
        cls.other = OrganisationFactory.create(slug="jobpages-other")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.ana = member_of(cls.org, Role.STAFF)
        cls.beto = member_of(cls.org, Role.STAFF)
        cls.outsider = member_of(cls.other, Role.ADMIN)
        cls.anas_job = JobFactory.create(
            organisation=cls.org, user=cls.ana, name="Ana's import", total=4, done=1
        )
        cls.betos_job = JobFactory.create(organisation=cls.org, user=cls.beto, name="Beto's import")
        cls.foreign_job = JobFactory.create(organisation=cls.other, user=cls.outsider)

    def progress_url(self, job: Job, org: str = "jobpages") -> str:
        return f"/{org}/jobs/{job.pk}/progress/"

    def test_the_owner_sees_the_progress_fragment(self) -> None:
        self.client.force_login(self.ana)
        response = self.client.get(self.progress_url(self.anas_job))
        assert response.status_code == 200
        content = response.content.decode()
        assert "<html" not in content
        assert f'id="job-{self.anas_job.pk}-progress"' in content
        assert "25 %" in content
        assert 'hx-trigger="every 1s"' in content  # still running: keeps polling

    def test_a_finished_job_stops_polling(self) -> None:
        Job.objects.filter(pk=self.anas_job.pk).update(status=Job.Status.DONE)
        self.client.force_login(self.ana)
        content = self.client.get(self.progress_url(self.anas_job)).content.decode()
        assert "100 %" in content
        assert "hx-trigger" not in content

    def test_progress_as_json(self) -> None:
        self.client.force_login(self.ana)
        response = self.client.get(self.progress_url(self.anas_job), HTTP_ACCEPT="application/json")
        assert response.json() == {"status": "queued", "percent": 25, "message": ""}

    def test_another_organisations_user_gets_404(self) -> None:
        self.client.force_login(self.outsider)
        assert self.client.get(self.progress_url(self.anas_job)).status_code == 404
        # Not through their own organisation's URL either.
        url = self.progress_url(self.anas_job, org="jobpages-other")
        assert self.client.get(url).status_code == 404

    def test_a_colleague_does_not_see_someone_elses_job(self) -> None:
        self.client.force_login(self.beto)
        assert self.client.get(self.progress_url(self.anas_job)).status_code == 404
        assert self.client.get(f"/jobpages/jobs/{self.anas_job.pk}/").status_code == 404
        assert self.client.get(f"/api/v1/jobpages/jobs/{self.anas_job.pk}/").status_code == 404

    def test_a_non_admin_lists_only_their_own_jobs(self) -> None:
        self.client.force_login(self.ana)
        response = self.client.get("/jobpages/jobs/")
        listed = [row.record for row in response.context["table"].paginated_rows]
        assert listed == [self.anas_job]
        api = self.client.get("/api/v1/jobpages/jobs/").json()["results"]
        assert [row["id"] for row in api] == [self.anas_job.pk]

    def test_an_admin_lists_every_job_of_the_organisation(self) -> None:
        self.client.force_login(self.admin)
        response = self.client.get("/jobpages/jobs/")
        listed = {row.record for row in response.context["table"].paginated_rows}
        assert listed == {self.anas_job, self.betos_job}
        assert self.client.get(self.progress_url(self.betos_job)).status_code == 200


TZ = zoneinfo.ZoneInfo("America/Mexico_City")


class SchedulerTests(TestCase):
    orgs: Any

    @classmethod
    def setUpTestData(cls) -> None:
        cls.orgs = [
            OrganisationFactory.create(slug="sched-a"),
            OrganisationFactory.create(slug="sched-b"),
        ]

    def setUp(self) -> None:
        # Only this test's schedules; the real ones are restored afterwards.
        patcher = mock.patch.dict(jobs.SCHEDULES, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        CALLS.clear()
        self.addCleanup(CALLS.clear)

    def test_schedule_registers_and_rejects_unknown_frequencies(self) -> None:
        jobs.schedule(name="test.daily", frequency="daily", hour=4)(scheduled_per_organisation)
        item = jobs.SCHEDULES["test.daily"]
        assert item.function_path == "gremio.core.tests.test_jobs.scheduled_per_organisation"
        assert (item.frequency, item.hour) == ("daily", 4)
        with self.assertRaises(ValueError):
            jobs.schedule(name="test.weekly", frequency="weekly")

    def test_daily_runs_once_a_day_after_its_hour(self) -> None:
        jobs.schedule(name="test.daily", frequency="daily", hour=4)(scheduled_per_organisation)
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 10, 3, 59, tzinfo=TZ)) == []
        assert CALLS == []
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 10, 4, 0, tzinfo=TZ)) == [
            "test.daily:2026-03-10"
        ]
        assert sorted(CALLS) == [("org", "sched-a"), ("org", "sched-b")]
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 10, 23, 0, tzinfo=TZ)) == []
        assert len(CALLS) == 2
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 11, 5, 0, tzinfo=TZ)) == [
            "test.daily:2026-03-11"
        ]
        assert len(CALLS) == 4
        assert ScheduledRun.objects.filter(name="test.daily").count() == 2

    def test_monthly_runs_once_a_month(self) -> None:
        jobs.schedule(name="test.monthly", frequency="monthly", hour=1)(scheduled_per_organisation)
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 1, 2, 0, tzinfo=TZ)) == [
            "test.monthly:2026-03"
        ]
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 20, 2, 0, tzinfo=TZ)) == []
        assert jobs.scheduler_tick(dt.datetime(2026, 4, 1, 0, 30, tzinfo=TZ)) == []
        assert jobs.scheduler_tick(dt.datetime(2026, 4, 1, 1, 0, tzinfo=TZ)) == [
            "test.monthly:2026-04"
        ]

    def test_the_hour_is_local_time(self) -> None:
        jobs.schedule(name="test.daily", frequency="daily", hour=4)(scheduled_per_organisation)
        # 09:00 UTC is 03:00 in Mexico City: not yet.
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)) == []
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)) == [
            "test.daily:2026-03-10"
        ]

    def test_an_installation_wide_schedule_runs_once(self) -> None:
        jobs.schedule(name="test.once", frequency="daily", hour=0, per_organisation=False)(
            scheduled_once
        )
        assert jobs.scheduler_tick(dt.datetime(2026, 3, 10, 1, 0, tzinfo=TZ)) == [
            "test.once:2026-03-10"
        ]
        assert CALLS == [("once", None)]

    def test_the_command_checks_once(self) -> None:
        jobs.schedule(name="test.daily", frequency="daily", hour=4)(scheduled_per_organisation)
        now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=TZ)
        out = io.StringIO()
        with mock.patch("django.utils.timezone.now", return_value=now):
            call_command("scheduler", once=True, stdout=out)
            call_command("scheduler", once=True, stdout=out)
        assert "Schedules: test.daily" in out.getvalue()
        assert out.getvalue().count("Enqueued test.daily:2026-03-10") == 1
        assert ScheduledRun.objects.filter(name="test.daily").count() == 1
