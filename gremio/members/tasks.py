"""The members module's scheduled work."""

from __future__ import annotations

from typing import Any

from gremio.core.jobs import schedule

from .services import memberships_recompute


@schedule(name="members.membership_statuses", frequency="daily", hour=1)
def recompute_membership_statuses(*, organisation: Any) -> int:
    """Move memberships through pending → active → in grace → lapsed as dates pass."""
    return memberships_recompute(organisation=organisation)
