"""Core's pages: declarations on the generic views, plus the few special pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..filtersets import (
    InvitationFilterSet,
    JobFilterSet,
    ObjectChangeFilterSet,
    PillarFilterSet,
    RoleAssignmentFilterSet,
)
from ..forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    InvitationForm,
    OrganisationCreateForm,
    OrganisationForm,
    PillarForm,
    RoleAssignmentForm,
)
from ..models import ApiToken, Invitation, Job, ObjectChange, Organisation, Pillar, RoleAssignment
from ..panels import panels_for
from ..permissions import can
from ..roles import Role
from ..selectors import jobs_visible_to, organisations_for_user
from ..tables import InvitationTable, JobTable, ObjectChangeTable, PillarTable, RoleAssignmentTable
from . import generic

# Declarations ------------------------------------------------------------------


class PillarDeleteView(generic.ObjectDeleteView):
    def delete(self, obj: Any) -> bool:
        return services.pillar_delete(pillar=obj)


class InvitationEditView(generic.ObjectEditView):
    def save(self, form: Any) -> Any:
        return services.invitation_send(
            organisation=self.organisation,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=self.request.user,
            base_url=f"{self.request.scheme}://{self.request.get_host()}",
        )


class ObjectChangeDetailView(generic.ObjectDetailView):
    template_name = "core/objectchange_detail.html"


pillar_pages = generic.ModelPages(
    model=Pillar,
    table=PillarTable,
    form=PillarForm,
    filterset=PillarFilterSet,
    detail_fields=("name_es", "name_en", "colour", "order", "active"),
    view_classes={"delete": PillarDeleteView},
)
role_pages = generic.ModelPages(
    model=RoleAssignment,
    table=RoleAssignmentTable,
    form=RoleAssignmentForm,
    filterset=RoleAssignmentFilterSet,
    queryset=RoleAssignment.objects.select_related("user"),
    detail_fields=("user", "role", "created"),
    views=("list", "detail", "add", "delete", "history"),
)
invitation_pages = generic.ModelPages(
    model=Invitation,
    table=InvitationTable,
    form=InvitationForm,
    filterset=InvitationFilterSet,
    queryset=Invitation.objects.select_related("invited_by"),
    detail_fields=("email", "role", "invited_by", "created", "expires", "accepted"),
    views=("list", "detail", "add", "delete", "history"),
    view_classes={"add": InvitationEditView},
)
change_pages = generic.ModelPages(
    model=ObjectChange,
    table=ObjectChangeTable,
    filterset=ObjectChangeFilterSet,
    queryset=ObjectChange.objects.select_related("content_type"),
    detail_fields=("time", "user_name", "action", "content_type", "object_repr", "request_id"),
    views=("list", "detail"),
    view_classes={"detail": ObjectChangeDetailView},
    lazy_pagination=True,
)
job_pages = generic.ModelPages(
    model=Job,
    table=JobTable,
    filterset=JobFilterSet,
    queryset=Job.objects.select_related("user"),
    detail_fields=("name", "user", "status", "created", "finished", "message"),
    views=("list", "detail"),
    extra_scope=lambda qs, request: jobs_visible_to(
        qs, user=request.user, organisation=request.organisation
    ),
)


# Special pages ---------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """Sends a signed-in user to their organisation, or lets them choose one."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    organisations = list(organisations_for_user(user=request.user))
    if len(organisations) == 1:
        return redirect(organisations[0].get_absolute_url())
    return render(request, "core/home.html", {"organisations": organisations})


def dashboard(request: HttpRequest, org: str) -> HttpResponse:
    """The organisation's start page."""
    organisation = request.organisation  # type: ignore[attr-defined]
    context = {
        "organisation": organisation,
        "pillars": Pillar.objects.filter(organisation=organisation, active=True),
        "my_roles": [Role(r).label for r in sorted(request.roles)],  # type: ignore[attr-defined]
        "recent_jobs": jobs_visible_to(
            Job.objects.filter(organisation=organisation),
            user=request.user,
            organisation=organisation,
        )[:5],
        "panels": panels_for("dashboard", request),
    }
    return render(request, "core/dashboard.html", context)


def organisation_edit(request: HttpRequest, org: str) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "core.change_organisation", organisation):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, _("Organisation settings saved."))
        return redirect("core:organisation_edit", org=organisation.slug)
    return render(
        request, "core/organisation_edit.html", {"form": form, "organisation": organisation}
    )


def lookup(request: HttpRequest, org: str, model: str) -> HttpResponse:
    """Choices for a lookup widget: ``?q=`` plus the model's own filters, 20 at most.

    Served from the model's ModelPages declaration, so scoping, the view
    permission and the search fields are the list page's own.
    """
    from django.apps import apps

    try:
        model_class = apps.get_model(model)
    except (LookupError, ValueError) as exc:
        raise Http404 from exc
    pages = generic.ModelPages.registry.get(model_class)
    if pages is None or pages.filterset is None:
        raise Http404
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(
        request.user,
        f"{model_class._meta.app_label}.view_{model_class._meta.model_name}",
        organisation,
    ):
        raise PermissionDenied
    base = pages.queryset if pages.queryset is not None else model_class._default_manager.all()
    queryset = pages.scope(base.all(), request)
    filterset = pages.filterset(request.GET, queryset=queryset, request=request)
    rows = filterset.qs[:20] if filterset.is_valid() else queryset.none()
    return JsonResponse({"results": [{"value": obj.pk, "text": str(obj)} for obj in rows]})


@generic.serves(Job)
def job_progress(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """The progress bar fragment a page polls with htmx while a job runs."""
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "core.view_job", organisation):
        raise PermissionDenied
    queryset = jobs_visible_to(
        Job.objects.filter(organisation=organisation), user=request.user, organisation=organisation
    )
    job = get_object_or_404(queryset, pk=pk)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"status": job.status, "percent": job.percent, "message": job.message})
    return render(
        request, "core/includes/job_progress.html", {"job": job, "organisation": organisation}
    )


@login_required
def operator_organisations(request: HttpRequest) -> HttpResponse:
    """The platform operator's list of organisations and the form to create one."""
    if not request.user.is_operator:  # type: ignore[union-attr]
        raise Http404
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "admin_email"}
        with transaction.atomic():
            organisation = services.organisation_create(**data)
            services.invitation_send(
                organisation=organisation,
                email=form.cleaned_data["admin_email"],
                role="admin",
                invited_by=request.user,
                base_url=f"{request.scheme}://{request.get_host()}",
            )
        messages.success(
            request,
            _("Organisation “{name}” created; its administrator has been invited.").format(
                name=organisation
            ),
        )
        return redirect("operator_organisations")
    organisations = Organisation.objects.order_by("name")
    return render(
        request, "core/operator_organisations.html", {"form": form, "organisations": organisations}
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = Invitation.objects.select_related("organisation").filter(token=token).first()
    if invitation is None or not invitation.is_open:
        return render(request, "core/invitation_invalid.html", status=404)
    from django.contrib.auth import get_user_model, login

    existing = get_user_model().objects.filter(email__iexact=invitation.email).first()
    if existing is not None:
        # Someone who already has an account accepts by signing in as that account.
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        if request.user.pk != existing.pk:
            return render(request, "core/invitation_invalid.html", {"wrong_user": True}, status=403)
        if request.method == "POST":
            services.invitation_accept(invitation=invitation, user=existing)
            messages.success(
                request,
                _("Welcome to {organisation}.").format(organisation=invitation.organisation),
            )
            return redirect(invitation.organisation.get_absolute_url())
        return render(
            request, "core/invitation_accept.html", {"invitation": invitation, "form": None}
        )
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.invitation_accept(
            invitation=invitation,
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, _("Welcome to {organisation}.").format(organisation=invitation.organisation)
        )
        return redirect(invitation.organisation.get_absolute_url())
    return render(request, "core/invitation_accept.html", {"invitation": invitation, "form": form})


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """A user's API tokens: create (the key is shown once) and revoke."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user__pk=request.user.pk or 0)
    return render(
        request, "core/api_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key}
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user_id=request.user.pk)
    token.delete()
    messages.success(request, _("Token “{name}” revoked.").format(name=token.name))
    return redirect("api_tokens")


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
