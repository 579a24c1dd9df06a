"""The one API router. Each module registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from gremio.core import api as core_api
from gremio.finance import api as finance_api
from gremio.members import api as members_api

router = DefaultRouter()
router.include_root_view = False
core_api.register(router)
members_api.register(router)
finance_api.register(router)
# Last: one endpoint per report that the modules registered (see register_reports).
core_api.register_reports(router)
