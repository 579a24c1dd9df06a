"""Members pages, under /<org>/members/."""

from django.urls import path

from gremio.core.views.reports import report_urls

from . import views, views_contacts, views_import

app_name = "members"

urlpatterns = [
    *views.company_pages.urls("companies"),
    *views.contact_pages.urls("contacts"),
    *views.membershipplan_pages.urls("plans"),
    *views.membership_pages.urls("memberships"),
    path("memberships/<int:pk>/renew/", views.membership_renew, name="membership_renew"),
    path("renewals/", views.renewals, name="renewals"),
    *views.service_pages.urls("services"),
    *views.servicedelivery_pages.urls("deliveries"),
    *views.interaction_pages.urls("interactions"),
    *views.chamber_pages.urls("chambers"),
    *views.tag_pages.urls("tags"),
    # The reports' pages (registered in reports.py) and their list, at /<org>/members/reports/.
    *report_urls("members"),
    # Import, vCards and personal data (views_import.py, views_contacts.py).
    path("import/", views_import.import_upload, name="import"),
    path("import/mapping/", views_import.import_mapping, name="import_mapping"),
    path("import/preview/", views_import.import_preview, name="import_preview"),
    path("import/errors/", views_import.import_errors, name="import_errors"),
    path("contacts/vcards/", views_contacts.contact_vcards, name="contact_vcards"),
    path("contacts/<int:pk>/vcard/", views_contacts.contact_vcard, name="contact_vcard"),
    path(
        "contacts/<int:pk>/personal-data/",
        views_contacts.contact_personal_data,
        name="contact_personal_data",
    ),
    path(
        "contacts/<int:pk>/anonymise/", views_contacts.contact_anonymise, name="contact_anonymise"
    ),
]
