"""Benchmark settings: production-like (DEBUG off), fast password hashing."""

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, MIDDLEWARE, STORAGES

DEBUG = False
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
