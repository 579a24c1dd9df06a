"""Writes with the members module's rules: membership status, company aggregates, contacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from . import movements, repeats
from .models import (
    Company,
    Contact,
    Employment,
    Membership,
    MembershipPlan,
    MembershipStatus,
    ServiceDelivery,
)

CURRENT = (MembershipStatus.ACTIVE, MembershipStatus.GRACE)


def today() -> dt.date:
    return timezone.localdate()


def period_end(*, plan: MembershipPlan, start: dt.date) -> dt.date:
    """The last day of a period starting on ``start`` under ``plan``."""
    if plan.period_type == MembershipPlan.PeriodType.CALENDAR:
        return dt.date(start.year, 12, 31)
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + 1, day=28)
    return anniversary - dt.timedelta(days=1)


def membership_status_on(membership: Membership, day: dt.date, *, renewed: bool = False) -> str:
    """The status the rules give ``membership`` on ``day``.

    An unexpired manual override wins; then resignation; then the dates:
    pending before the start, active to the end, then — unless the next
    period has begun (``renewed``) — in grace for the plan's grace days and
    lapsed after that.
    """
    if (
        membership.status_override
        and membership.override_until
        and day <= membership.override_until
    ):
        return membership.status_override
    if membership.resigned_on and membership.resigned_on <= day:
        return MembershipStatus.RESIGNED
    if day < membership.start:
        return MembershipStatus.PENDING
    if day <= membership.end:
        return MembershipStatus.ACTIVE
    if renewed:
        return MembershipStatus.RENEWED
    if day <= membership.end + dt.timedelta(days=membership.plan.grace_days):
        return MembershipStatus.GRACE
    return MembershipStatus.LAPSED


_PRIORITY: dict[str, int] = {
    MembershipStatus.ACTIVE: 0,
    MembershipStatus.GRACE: 1,
    MembershipStatus.PENDING: 2,
}


def is_renewed(
    membership: Membership, day: dt.date, others: list[Membership] | None = None
) -> bool:
    """Whether a later period of the same company began, by ``day``, within this one's grace."""
    limit = membership.end + dt.timedelta(days=membership.plan.grace_days + 1)
    if others is None:
        others = list(
            Membership.objects.filter(company_id=membership.company_id).exclude(pk=membership.pk)
        )
    return any(
        o is not membership and membership.end < o.start <= limit and o.start <= day for o in others
    )


def company_refresh(*, company: Company, day: dt.date | None = None) -> Company:
    """Recompute the company's membership status, member-since date and last service.

    The current membership is an active one, else one in grace, else a
    pending one, else the latest. "Member since" is the start of the
    unbroken run of memberships (renewals within the grace days) that
    reaches the current one, so it survives renewals.
    """
    day = day or today()
    memberships = list(company.memberships.select_related("plan").order_by("start", "pk"))
    movements.refresh(memberships)
    status = ""
    since = None
    if memberships:
        statuses = {
            m.pk: membership_status_on(m, day, renewed=is_renewed(m, day, memberships))
            for m in memberships
        }
        current = min(
            memberships,
            key=lambda m: (_PRIORITY.get(statuses[m.pk], 3), -m.start.toordinal(), -m.pk),
        )
        status = statuses[current.pk]
        if status in CURRENT:
            run_start = memberships[0].start
            previous = None
            for membership in memberships:
                if previous is not None:
                    limit = previous.end + dt.timedelta(days=previous.plan.grace_days + 1)
                    broken = membership.start > limit or (
                        previous.resigned_on is not None and previous.resigned_on < membership.start
                    )
                    if broken:
                        run_start = membership.start
                previous = membership
                if membership.pk == current.pk:
                    break
            since = run_start
    last_service = company.deliveries.aggregate(last=Max("date"))["last"]
    changed = (
        company.membership_status != status
        or company.member_since != since
        or company.last_service_on != last_service
        or company.is_member != (status in CURRENT)
    )
    if changed:
        company.membership_status = status
        company.member_since = since
        company.last_service_on = last_service
        company.is_member = status in CURRENT
        company.save(
            update_fields=["membership_status", "member_since", "last_service_on", "is_member"]
        )
    return company


def membership_refresh(*, membership: Membership, day: dt.date | None = None) -> Membership:
    """Apply the status rules to one membership and to its company."""
    day = day or today()
    changed = False
    if membership.override_until and membership.override_until < day:
        membership.status_override = ""
        membership.override_until = None
        changed = True
    status = membership_status_on(membership, day, renewed=is_renewed(membership, day))
    if status != membership.status:
        membership.status = status
        changed = True
    if changed:
        membership.save()  # The change log records the status change.
    company_refresh(company=membership.company, day=day)
    return membership


@transaction.atomic
def membership_save(*, membership: Membership, day: dt.date | None = None) -> Membership:
    """Validate and save a membership (its end follows from the plan if empty), then its status."""
    if not membership.end and membership.start and membership.plan_id:
        membership.end = period_end(plan=membership.plan, start=membership.start)
    day = day or today()
    membership.status = membership_status_on(membership, day, renewed=is_renewed(membership, day))
    membership.full_clean()
    moved_from = (
        Membership.objects.filter(pk=membership.pk)
        .exclude(company_id=membership.company_id)
        .values_list("company_id", flat=True)
        .first()
        if membership.pk
        else None
    )
    membership.save()
    if moved_from is not None:  # recorded against the wrong company: that one changes too
        company_refresh(company=Company.objects.get(pk=moved_from), day=day)
    # A new period may turn the previous one from "in grace" or "lapsed" into "renewed".
    earlier = Membership.objects.filter(
        company_id=membership.company_id, end__lt=membership.start
    ).select_related("plan", "company")
    for previous in earlier.exclude(status=MembershipStatus.RENEWED):
        membership_refresh(membership=previous, day=day)
    company_refresh(company=membership.company, day=day)
    return membership


@transaction.atomic
def membership_renew(*, membership: Membership, day: dt.date | None = None) -> Membership:
    """Start the next period of a membership the day after it ends, on the same terms."""
    start = membership.end + dt.timedelta(days=1)
    renewal = Membership(
        organisation=membership.organisation,
        company=membership.company,
        plan=membership.plan,
        start=start,
        fee=membership.fee,
    )
    return membership_save(membership=renewal, day=day)


@transaction.atomic
def plan_save(*, plan: MembershipPlan) -> MembershipPlan:
    """Save a plan; a change of its grace days moves its memberships' lapses and renewals."""
    before = (
        MembershipPlan.objects.filter(pk=plan.pk).values_list("grace_days", flat=True).first()
        if plan.pk
        else None
    )
    plan.save()
    if before is not None and before != plan.grace_days:
        companies = Membership.objects.filter(plan=plan).values("company_id")
        movements.rebuild(Membership, MembershipPlan, company_id__in=companies)
    return plan


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Delete a membership, then recompute its company's status and the periods it renewed."""
    company = membership.company
    membership.delete()
    for previous in (
        Membership.objects.filter(company=company, status=MembershipStatus.RENEWED)
        .select_related("plan", "company")
        .order_by("start")
    ):
        membership_refresh(membership=previous)
    company_refresh(company=company)


def memberships_recompute(*, organisation: Any, day: dt.date | None = None) -> int:
    """Refresh every membership whose status the rules may have changed by ``day``.

    Only candidates are read: pending ones that have started, current ones
    past their end, grace ones past their grace, and expired overrides.
    """
    from django.db.models import Q

    day = day or today()
    candidates = (
        Membership.objects.filter(organisation=organisation)
        .filter(
            Q(status=MembershipStatus.PENDING, start__lte=day)
            | Q(status=MembershipStatus.ACTIVE, end__lt=day)
            | Q(status=MembershipStatus.GRACE)
            | (Q(resigned_on__lte=day) & ~Q(status=MembershipStatus.RESIGNED))
            | Q(override_until__lt=day)
        )
        .select_related("plan", "company")
    )
    changed = 0
    for membership in candidates.iterator(chunk_size=500):
        before = membership.status
        with transaction.atomic():
            membership_refresh(membership=membership, day=day)
        changed += membership.status != before
    return changed


@transaction.atomic
def delivery_save(*, delivery: ServiceDelivery, contacts: Any = None) -> ServiceDelivery:
    """Save a service delivery and keep the last-service date of its company (and of the
    company it was moved from), and each of their deliveries' previous ones (repeats.py)."""
    previous_company_id = (
        ServiceDelivery.objects.filter(pk=delivery.pk).values_list("company_id", flat=True).first()
        if delivery.pk
        else None
    )
    delivery.full_clean()
    delivery.save()
    if contacts is not None:
        delivery.contacts.set(contacts)
    company_refresh(company=delivery.company)
    companies = [delivery.company_id]
    if previous_company_id and previous_company_id != delivery.company_id:
        company_refresh(company=Company.objects.get(pk=previous_company_id))
        companies.append(previous_company_id)
    repeats.rebuild(ServiceDelivery, company_ids=companies)
    delivery.refresh_from_db(fields=repeats.FIELDS)
    return delivery


@transaction.atomic
def delivery_delete(*, delivery: ServiceDelivery) -> None:
    """Delete a service delivery and keep the company's last-service date and the previous
    deliveries of the ones after it."""
    company = delivery.company
    delivery.delete()
    company_refresh(company=company)
    repeats.rebuild(ServiceDelivery, company_ids=[company.pk])


@transaction.atomic
def contact_move(
    *, contact: Contact, company: Company | None, position: str = "", on: dt.date | None = None
) -> Contact:
    """Move a contact to another company, keeping where they worked before."""
    on = on or today()
    if contact.company_id == (company.pk if company else None):
        return contact
    if contact.company_id:
        open_job = contact.employments.filter(
            company_id=contact.company_id, end__isnull=True
        ).first()
        if open_job is None:
            open_job = Employment(
                organisation=contact.organisation,
                contact=contact,
                company_id=contact.company_id,
                position=contact.position,
            )
        open_job.end = on
        open_job.save()
    if company is not None:
        Employment.objects.create(
            organisation=contact.organisation,
            contact=contact,
            company=company,
            position=position,
            start=on,
        )
    contact.company = company
    contact.position = position
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def contact_anonymise(*, contact: Contact) -> Contact:
    """Erase a contact's personal data on request (ARCO cancellation), keeping statistics.

    The row stays, so services delivered and interactions still count;
    names, e-mail, phones, notes and employment positions are cleared.
    """
    contact.first_name = "—"
    contact.last_name = f"#{contact.pk}"
    contact.second_last_name = ""
    contact.position = ""
    contact.email = ""
    contact.phone = ""
    contact.mobile = ""
    contact.notes = ""
    contact.privacy_consent = False
    contact.privacy_consent_on = None
    contact.opt_out_email = contact.opt_out_phone = contact.opt_out_events = True
    contact.anonymised = timezone.now()
    contact.save()
    contact.employments.update(position="")
    return contact
