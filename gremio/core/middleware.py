"""Request-wide context: who is acting, and in which organisation."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation

from .changelog import change_context
from .models import Organisation
from .permissions import roles_for


class ChangeContextMiddleware:
    """Attributes every change made while serving a request to its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.id = uuid.uuid4()  # type: ignore[attr-defined]
        with change_context(request.user, request_id=request.id):  # type: ignore[attr-defined]
            return self.get_response(request)


def resolve_organisation(request: Any, slug: str) -> Organisation:
    """The organisation named in the URL, if the user holds a role in it; else 404.

    A 404, never a 403: a user outside an organisation cannot tell whether it exists.
    """
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404("No such organisation")
    roles = roles_for(request.user, organisation.pk)
    if not roles:
        raise Http404("No such organisation")
    request.organisation = organisation
    request.roles = roles
    timezone.activate(zoneinfo.ZoneInfo(organisation.time_zone))
    # The organisation's default language applies until the person picks one.
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(organisation.language)
        request.LANGUAGE_CODE = organisation.language
    return organisation


class OrganisationMiddleware:
    """Resolves ``/<org>/...`` for every page before its view runs.

    API views resolve the organisation themselves after token authentication
    (``gremio.core.api.OrganisationGenericViewSet``), so they are skipped here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organisation = None  # type: ignore[attr-defined]
        request.roles = frozenset()  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        slug = view_kwargs.get("org")
        if slug is None or getattr(view_func, "cls", None) is not None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        resolve_organisation(request, slug)
        return None
