"""Generic pages for every organisation model.

A module declares, per model, a ``ModelPages`` with its table, filter set
and form; the views below do the rest once: scoping to the request's
organisation, permission checks, transactions, htmx partial updates,
CSV/XLSX export, the History tab and confirmation before delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views import View
from django_tables2.export import TableExport
from django_tables2.paginators import LazyPaginator

from ..models import Organisation
from ..permissions import can, perm_name
from ..roles import ADD, CHANGE, DELETE, EXPORT, VIEW
from ..selectors import object_history

EXPORT_FORMATS = ("csv", "xlsx")


def serves(model: type[models.Model]) -> Any:
    """Mark a function view that takes ``pk`` with the model it serves.

    The URL-walk test uses it to fill ``pk`` with a real record of that model.
    """

    def decorator(view: Any) -> Any:
        view.model = model
        return view

    return decorator


def url_name(model: type[models.Model], view: str) -> str:
    return f"{model._meta.app_label}:{model._meta.model_name}_{view}"


class OrganisationView(View):
    """Base of every organisation page: scoped queryset and one permission check."""

    model: Any = None
    queryset: QuerySet[Any] | None = None
    action: str = VIEW
    pages: Any = None  # the ModelPages that declared this view

    request: HttpRequest
    organisation: Organisation

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        organisation = getattr(request, "organisation", None)
        if organisation is None:  # The middleware resolves it for every /<org>/ URL.
            raise Http404
        self.organisation = organisation
        if not can(request.user, perm_name(self.model, self.action), organisation):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.queryset if self.queryset is not None else self.model._default_manager.all()
        return self.pages.scope(queryset.all(), self.request)

    def get_object(self) -> Any:
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (self.model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def may(self, action: str, obj: Any = None) -> bool:
        return can(self.request.user, perm_name(self.model, action), obj or self.organisation)

    def base_context(self, **extra: Any) -> dict[str, Any]:
        opts = self.model._meta
        return {
            "organisation": self.organisation,
            "opts": opts,
            "pages": self.pages,
            "model_name": opts.verbose_name,
            "model_name_plural": opts.verbose_name_plural,
            "list_url": self.pages.url("list", self.organisation),
            "may_add": self.pages.has("add") and self.may(ADD),
            **extra,
        }


class ObjectListView(OrganisationView):
    """Table with filters, sorting, pagination, htmx updates and export."""

    template_name = "core/object_list.html"
    partial_template_name = "core/includes/object_table.html"
    paginate_by = 25

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        queryset = self.get_queryset()
        filterset = None
        if self.pages.filterset is not None:
            filterset = self.pages.filterset(
                request.GET or None, queryset=queryset, request=request
            )
            if filterset.is_bound and not filterset.is_valid():
                queryset = queryset.none()
            else:
                queryset = filterset.qs
        # No request= here: it would paginate (and count) before RequestConfig below.
        table = self.pages.table(queryset, organisation=self.organisation)

        export_format = request.GET.get("_export")
        if export_format:
            return self.export(table, export_format)

        paginate: dict[str, Any] = {"per_page": self.paginate_by}
        if self.pages.lazy_pagination:
            paginate["paginator_class"] = LazyPaginator
            table.lazy_pagination = True  # The table template shows no total.
        tables.RequestConfig(request, paginate=paginate).configure(table)
        context = self.base_context(
            table=table,
            filterset=filterset,
            may_export=self.may(EXPORT),
            export_formats=EXPORT_FORMATS,
        )
        if request.htmx and request.htmx.target == "object-table":  # type: ignore[attr-defined]
            return render(request, self.partial_template_name, context)
        return render(request, self.get_template_names(), context)

    def get_template_names(self) -> list[str]:
        # As the detail page: a module may extend the generic list (e.g. its list_actions).
        opts = self.model._meta
        return [f"{opts.app_label}/{opts.model_name}_list.html", self.template_name]

    def export(self, table: tables.Table, export_format: str) -> HttpResponse:
        if export_format not in EXPORT_FORMATS:
            raise Http404
        if not self.may(EXPORT):
            raise PermissionDenied
        filename = f"{self.organisation.slug}-{self.model._meta.model_name}s.{export_format}"
        exporter = TableExport(export_format, table)
        return exporter.response(filename=filename)


class ObjectDetailView(OrganisationView):
    template_name = "core/object_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return render(request, self.get_template_names(), self.detail_context(obj))

    def get_template_names(self) -> list[str]:
        opts = self.model._meta
        return [f"{opts.app_label}/{opts.model_name}_detail.html", self.template_name]

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        return self.base_context(
            object=obj,
            fields=self.pages.detail_rows(obj),
            may_change=self.pages.has("edit") and self.may(CHANGE, obj),
            may_delete=self.pages.has("delete") and self.may(DELETE, obj),
            tab="detail",
            **extra,
        )


class ObjectHistoryView(ObjectDetailView):
    """The History tab: this record's change log."""

    template_name = "core/object_history.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        changes = object_history(organisation=self.organisation, instance=obj).select_related(
            "user"
        )
        return render(
            request,
            self.template_name,
            {**self.detail_context(obj), "changes": changes[:200], "tab": "history"},
        )


class ObjectEditView(OrganisationView):
    """Create (no pk) or edit one record through its form, in one transaction."""

    template_name = "core/object_edit.html"

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.action = CHANGE if "pk" in kwargs else ADD

    def get_instance(self) -> Any:
        if "pk" in self.kwargs:
            obj = self.get_object()
            if not self.may(CHANGE, obj):
                raise PermissionDenied
            return obj
        return self.model()

    def get_form(self, instance: Any) -> Any:
        data = self.request.POST if self.request.method == "POST" else None
        files = self.request.FILES if self.request.method == "POST" else None
        initial = None
        if instance.pk is None and self.request.method == "GET":
            initial = {**self.get_initial(), **self.request.GET.dict()}
        return self.pages.form(
            data, files, instance=instance, initial=initial, organisation=self.organisation
        )

    def get_initial(self) -> dict[str, Any]:
        """Defaults of a new record's form; the query string overrides them."""
        return {}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        return self.render_form(self.get_form(instance), instance)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        form = self.get_form(instance)
        if not form.is_valid():
            return self.render_form(form, instance, status=422 if request.htmx else 200)  # type: ignore[attr-defined]
        created = instance.pk is None
        with transaction.atomic():
            obj = self.save(form)
            # Re-check after saving, as NetBox does: the record must still
            # belong to the organisation the request is about.
            if getattr(obj, "organisation_id", self.organisation.pk) != self.organisation.pk:
                raise PermissionDenied
        message = _("{model} “{object}” created.") if created else _("{model} “{object}” saved.")
        messages.success(
            request, message.format(model=self.model._meta.verbose_name.capitalize(), object=obj)
        )
        return HttpResponseRedirect(self.success_url(obj))

    def save(self, form: Any) -> Any:
        return form.save()

    def success_url(self, obj: Any) -> str:
        next_url = self.request.POST.get("_next", "")
        if next_url.startswith(f"/{self.organisation.slug}/"):
            return next_url
        return (
            self.pages.url("detail", self.organisation, obj)
            if self.pages.has("detail")
            else self.pages.url("list", self.organisation)
        )

    def render_form(self, form: Any, instance: Any, status: int = 200) -> HttpResponse:
        context = self.base_context(form=form, object=instance if instance.pk else None)
        return render(self.request, self.template_name, context, status=status)


class ObjectDeleteView(OrganisationView):
    """Confirmation on GET; delete on POST. A record in use is kept and the user told why."""

    template_name = "core/object_delete.html"
    action = DELETE

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return render(request, self.template_name, self.base_context(object=obj))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        if not self.may(DELETE, obj):
            raise PermissionDenied
        name = str(obj)
        try:
            with transaction.atomic():
                deleted = self.delete(obj)
        except ProtectedError:
            messages.error(
                request,
                _("“{object}” is in use by other records and cannot be deleted.").format(
                    object=name
                ),
            )
            return HttpResponseRedirect(self.pages.url("detail", self.organisation, obj))
        if deleted:
            messages.success(request, _("“{object}” deleted.").format(object=name))
            return HttpResponseRedirect(self.pages.url("list", self.organisation))
        messages.warning(
            request, _("“{object}” is in use, so it was deactivated instead.").format(object=name)
        )
        return HttpResponseRedirect(self.pages.url("detail", self.organisation, obj))

    def delete(self, obj: Any) -> bool:
        """Delete ``obj``; return False when it was deactivated instead."""
        obj.delete()
        return True


@dataclass
class ModelPages:
    """Everything a model needs for its pages, declared once.

    ``views`` lists which of list, detail, add, edit, delete and history the
    model offers; ``view_classes`` overrides any of them.
    """

    model: type[models.Model]
    table: type[tables.Table]
    form: Any = None
    filterset: type[django_filters.FilterSet] | None = None
    queryset: QuerySet[Any] | None = None
    detail_fields: Sequence[str] = ()
    views: Sequence[str] = ("list", "detail", "add", "edit", "delete", "history")
    view_classes: dict[str, type[OrganisationView]] = field(default_factory=dict)
    extra_scope: Any = None  # callable(queryset, request) -> queryset, to narrow further
    # For tables of millions of rows: no COUNT(*), only "previous / next".
    lazy_pagination: bool = False

    registry: ClassVar[dict[type[models.Model], ModelPages]] = {}

    def __post_init__(self) -> None:
        ModelPages.registry[self.model] = self

    DEFAULT_VIEWS = {
        "list": ObjectListView,
        "detail": ObjectDetailView,
        "add": ObjectEditView,
        "edit": ObjectEditView,
        "delete": ObjectDeleteView,
        "history": ObjectHistoryView,
    }
    ROUTES = {
        "list": "",
        "add": "add/",
        "detail": "<int:pk>/",
        "edit": "<int:pk>/edit/",
        "delete": "<int:pk>/delete/",
        "history": "<int:pk>/history/",
    }

    def has(self, view: str) -> bool:
        return view in self.views

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        """The single place a page's queryset is narrowed to the organisation."""
        organisation = request.organisation  # type: ignore[attr-defined]
        if issubclass(self.model, Organisation):
            queryset = queryset.filter(pk=organisation.pk)
        else:
            # select_related: every row's link names the organisation's slug.
            queryset = queryset.filter(organisation=organisation).select_related("organisation")
        return self.extra_scope(queryset, request) if self.extra_scope else queryset

    def url(self, view: str, organisation: Organisation, obj: Any = None) -> str:
        kwargs: dict[str, Any] = {"org": organisation.slug}
        if obj is not None and "<int:pk>" in self.ROUTES[view]:
            kwargs["pk"] = obj.pk
        return reverse(url_name(self.model, view), kwargs=kwargs)

    def urls(self, prefix: str) -> list[Any]:
        model_name = self.model._meta.model_name
        patterns = []
        for view in self.views:
            view_class = self.view_classes.get(view, self.DEFAULT_VIEWS[view])
            as_view = view_class.as_view(model=self.model, queryset=self.queryset, pages=self)
            patterns.append(
                path(f"{prefix}/{self.ROUTES[view]}", as_view, name=f"{model_name}_{view}")
            )
        return patterns

    def detail_rows(self, obj: Any) -> list[tuple[str, Any]]:
        """(label, value) pairs for the detail page, in declared order."""
        rows = []
        for name in self.detail_fields:
            model_field = obj._meta.get_field(name)
            value = getattr(obj, name)
            if getattr(model_field, "choices", None):
                value = getattr(obj, f"get_{name}_display")()
            rows.append((model_field.verbose_name, value))
        return rows
