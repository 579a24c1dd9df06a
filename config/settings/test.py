"""Test settings: fast hashing, jobs run synchronously, no manifest storage."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, STORAGES

DEBUG = False
# Static files are served from the finders in tests; no collected directory.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]
