"""API authentication. Kept apart from ``api.py`` so that settings can name it:
DRF reads DEFAULT_AUTHENTICATION_CLASSES when its views module is imported,
and ``api.py`` imports those views."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import ApiToken


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` with named, hashed tokens (``core.ApiToken``)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = (
            ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if token.last_used is None or (timezone.now() - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return token.user, token
