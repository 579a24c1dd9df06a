"""The change log: who changed what, when, in which organisation, before and after.

Every save and delete of a model that belongs to an organisation is recorded
by the signal handlers below, so no view or service has to remember. The
acting user comes from ``change_context`` (set per request by
``ChangeContextMiddleware`` and by commands and jobs that act for someone).
Bulk writes (``bulk_create``, ``QuerySet.update``) bypass signals: services
that use them call ``record_change`` themselves.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from .models import ObjectChange, Organisation, OrganisationOwned


@dataclass(frozen=True)
class ChangeContext:
    user: Any = None
    request_id: uuid.UUID | None = None
    label: str = ""


_NOBODY = ChangeContext()
_context: ContextVar[ChangeContext | None] = ContextVar("gremio_change_context", default=None)


@contextlib.contextmanager
def change_context(
    user: Any = None, *, request_id: uuid.UUID | None = None, label: str = ""
) -> Iterator[ChangeContext]:
    """Attribute every change made inside the block to ``user`` (or ``label``)."""
    ctx = ChangeContext(user=user, request_id=request_id or uuid.uuid4(), label=label)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def current_context() -> ChangeContext:
    return _context.get() or _NOBODY


def attribute_to(user: Any) -> None:
    """Attribute the rest of the current request's changes to ``user``.

    The API authenticates tokens after the middleware has opened the
    context; the middleware's reset still restores the outer value.
    """
    _context.set(ChangeContext(user=user, request_id=current_context().request_id))


# Fields never worth recording (secrets and bookkeeping).
EXCLUDED_FIELDS = frozenset({"password", "token", "last_login"})


class ChangeEncoder(DjangoJSONEncoder):
    """Dates, decimals and UUIDs as Django encodes them; other values (phones…) as text."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def serialize(instance: models.Model, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The instance's concrete field values (or only ``fields``) as JSON-safe data."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in EXCLUDED_FIELDS or (fields is not None and field.name not in fields):
            continue
        data[field.attname if field.is_relation else field.name] = field.value_from_object(instance)
    # Round-trip through the encoder so Decimal, dates and UUIDs become strings.
    return json.loads(json.dumps(data, cls=ChangeEncoder))


def is_logged(model: type[models.Model]) -> bool:
    return issubclass(model, OrganisationOwned | Organisation) and not getattr(
        model, "changelog_exempt", False
    )


def record_change(
    *,
    instance: models.Model,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> ObjectChange:
    """Write one change-log row for ``instance`` in the current context."""
    row = change_row(instance=instance, action=action, before=before, after=after)
    row.save()
    return row


def record_creations(
    instances: list[models.Model], *, fields: tuple[str, ...] | None = None
) -> None:
    """Log the creation of many instances written with ``bulk_create``, in one insert.

    ``fields`` limits what is kept of each (all concrete fields by default).
    """
    ObjectChange.objects.bulk_create(
        [
            change_row(
                instance=instance,
                action=ObjectChange.Action.CREATE,
                before=None,
                after=serialize(instance, fields=fields),
            )
            for instance in instances
        ],
        batch_size=1000,
    )


def change_row(
    *,
    instance: models.Model,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> ObjectChange:
    """An unsaved change-log row for ``instance`` in the current context."""
    from django.contrib.contenttypes.models import ContentType

    ctx = current_context()
    user = ctx.user if getattr(ctx.user, "is_authenticated", False) else None
    organisation_id: Any = (
        instance.pk
        if isinstance(instance, Organisation)
        else getattr(instance, "organisation_id", None)
    )
    return ObjectChange(
        organisation_id=organisation_id,
        user=user,
        user_name=(user.email if user else ctx.label or "system")[:254],
        request_id=ctx.request_id,
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        prechange_data=before,
        postchange_data=after,
    )


def _before_save(
    sender: type[models.Model], instance: models.Model, raw: bool = False, **kw: Any
) -> None:
    if raw or not is_logged(sender):
        return
    before = None
    if instance.pk is not None and not instance._state.adding:
        old = sender._base_manager.filter(pk=instance.pk).first()
        before = serialize(old) if old is not None else None
    instance._changelog_before = before  # type: ignore[attr-defined]


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw or not is_logged(sender):
        return
    before = getattr(instance, "_changelog_before", None)
    after = serialize(instance)
    if not created and before == after:
        return
    record_change(
        instance=instance,
        action=ObjectChange.Action.CREATE if created else ObjectChange.Action.UPDATE,
        before=None if created else before,
        after=after,
    )


def _before_delete(sender: type[models.Model], instance: models.Model, **kw: Any) -> None:
    if is_logged(sender):
        instance._changelog_before = serialize(instance)  # type: ignore[attr-defined]


def _after_delete(sender: type[models.Model], instance: models.Model, **kw: Any) -> None:
    if is_logged(sender):
        record_change(
            instance=instance,
            action=ObjectChange.Action.DELETE,
            before=getattr(instance, "_changelog_before", None),
            after=None,
        )


def connect() -> None:
    pre_save.connect(_before_save, dispatch_uid="gremio_changelog_pre_save")
    post_save.connect(_after_save, dispatch_uid="gremio_changelog_post_save")
    pre_delete.connect(_before_delete, dispatch_uid="gremio_changelog_pre_delete")
    post_delete.connect(_after_delete, dispatch_uid="gremio_changelog_post_delete")
