"""Personal data held about a contact, for an access request under the LFPDPPP (ARCO rights).

Anonymising (the cancellation right) is ``services.contact_anonymise``.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone

from gremio.core.models import ObjectChange

from .models import Contact, Employment


class _Encoder(DjangoJSONEncoder):
    """Dates and decimals as Django writes them; phone numbers and the like as text."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _company(company: Any) -> dict[str, Any] | None:
    if company is None:
        return None
    return {"id": company.pk, "legal_name": company.legal_name, "rfc": company.rfc}


def contact_personal_data(*, contact: Contact) -> dict[str, Any]:
    """Everything held about ``contact``: its fields, employment history, services
    delivered and interactions it appears in, and the change log about it."""
    fields = {
        f.name: getattr(contact, f.name)
        for f in contact._meta.concrete_fields
        if f.name not in ("organisation", "company")
    }
    fields["company"] = _company(contact.company)
    employments = list(contact.employments.select_related("company").order_by("start", "pk"))
    deliveries = contact.deliveries.select_related("service", "company").order_by("date", "pk")
    interactions = contact.interactions.select_related("company").order_by("date", "pk")
    changes = (
        ObjectChange.objects.filter(organisation_id=contact.organisation_id)
        .filter(
            Q(
                content_type=ContentType.objects.get_for_model(Contact),
                object_id=str(contact.pk),
            )
            | Q(
                content_type=ContentType.objects.get_for_model(Employment),
                object_id__in=[str(e.pk) for e in employments],
            )
        )
        .select_related("content_type")
        .order_by("time", "pk")
    )
    return {
        "generated": timezone.now(),
        "organisation": contact.organisation.name,
        "contact": fields,
        "employment_history": [
            {
                "company": _company(e.company),
                "position": e.position,
                "from": e.start,
                "to": e.end,
            }
            for e in employments
        ],
        "services_delivered": [
            {
                "date": d.date,
                "service": d.service.name,
                "company": _company(d.company),
                "channel": d.channel,
                "hours": d.hours,
                "satisfaction": d.satisfaction,
                "outcome": d.outcome,
                "notes": d.notes,
            }
            for d in deliveries
        ],
        "interactions": [
            {
                "date": i.date,
                "kind": i.kind,
                "company": _company(i.company),
                "summary": i.summary,
                "follow_up_on": i.follow_up_on,
            }
            for i in interactions
        ],
        "change_log": [
            {
                "time": c.time,
                "action": c.action,
                "record": f"{c.content_type.model} {c.object_id}",
                "by": c.user_name,
                "before": c.prechange_data,
                "after": c.postchange_data,
            }
            for c in changes
        ],
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=_Encoder, ensure_ascii=False, indent=2)
