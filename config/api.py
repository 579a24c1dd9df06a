"""The one API router. Each module registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from gremio.core import api as core_api

router = DefaultRouter()
router.include_root_view = False
core_api.register(router)
