from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from gremio.core.views import pages

from .api import router

handler403 = "gremio.core.views.pages.error_403"
handler404 = "gremio.core.views.pages.error_404"
handler500 = "gremio.core.views.pages.error_500"

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("account/tokens/", pages.api_tokens, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", pages.api_token_revoke, name="api_token_revoke"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("invitations/<str:token>/", pages.invitation_accept, name="invitation_accept"),
    path("platform/organisations/", pages.operator_organisations, name="operator_organisations"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/<slug:org>/", include(router.urls)),
    path("<slug:org>/members/", include("gremio.members.urls")),
    path("<slug:org>/finance/", include("gremio.finance.urls")),
    path("<slug:org>/", include("gremio.core.urls")),
]
