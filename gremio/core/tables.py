"""Base table and the tables of core's models."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Invitation, Job, ObjectChange, Organisation, Pillar, RoleAssignment


class OrganisationTable(tables.Table):
    """A table that knows the organisation it shows; links stay inside it."""

    def __init__(self, *args: Any, organisation: Organisation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation


class PillarTable(OrganisationTable):
    colour = tables.TemplateColumn(
        '<span class="swatch" style="background:{{ value }}"></span>',
        verbose_name=_("colour"),
        orderable=False,
        exclude_from_export=True,
    )
    name_es = tables.Column(linkify=True)
    name_en = tables.Column(linkify=True)
    active = tables.BooleanColumn()

    class Meta:
        model = Pillar
        fields = ("order", "colour", "name_es", "name_en", "active")
        order_by = ("order",)


class RoleAssignmentTable(OrganisationTable):
    user = tables.Column(
        linkify=lambda record: record.get_absolute_url(), order_by=("user__email",)
    )
    email = tables.Column(accessor="user__email", verbose_name=_("e-mail address"))

    class Meta:
        model = RoleAssignment
        fields = ("user", "email", "role", "created")


class InvitationTable(OrganisationTable):
    email = tables.Column(linkify=True)
    status = tables.Column(empty_values=(), verbose_name=_("status"), orderable=False)

    class Meta:
        model = Invitation
        fields = ("email", "role", "invited_by", "created", "expires", "accepted", "status")

    def render_status(self, record: Invitation) -> str:
        if record.accepted:
            return str(_("Accepted"))
        return str(_("Pending")) if record.is_open else str(_("Expired"))


class ObjectChangeTable(OrganisationTable):
    time = tables.DateTimeColumn(linkify=True, format="SHORT_DATETIME_FORMAT")
    content_type = tables.Column(verbose_name=_("object type"))
    object_repr = tables.Column(verbose_name=_("object"))

    class Meta:
        model = ObjectChange
        fields = ("time", "user_name", "action", "content_type", "object_repr")
        order_by = ("-time",)

    def render_content_type(self, value: Any) -> str:
        return (
            str(value.model_class()._meta.verbose_name).capitalize()
            if value.model_class()
            else str(value)
        )


class JobTable(OrganisationTable):
    name = tables.Column(linkify=True)
    progress = tables.TemplateColumn(
        template_name="core/includes/job_progress_cell.html",
        verbose_name=_("progress"),
        orderable=False,
        exclude_from_export=True,
    )

    class Meta:
        model = Job
        fields = ("name", "user", "status", "progress", "created", "finished")
        order_by = ("-created",)
