"""Reads that join or aggregate members data: lists, the 360 page, reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .models import Interaction


def interaction_follow_ups_due(*, organisation: Any, user: Any, day: dt.date | None = None) -> Any:
    """A user's open follow-ups due on or before ``day``, oldest first."""
    day = day or timezone.localdate()
    return (
        Interaction.objects.filter(
            organisation=organisation,
            staff=user,
            follow_up_done=False,
            follow_up_on__isnull=False,
            follow_up_on__lte=day,
        )
        .select_related("company", "organisation")
        .order_by("follow_up_on", "pk")
    )
