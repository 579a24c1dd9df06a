"""Finance pages, under /<org>/finance/."""

from gremio.core.views.reports import report_urls

from . import views_billing, views_documents, views_ledger

app_name = "finance"

urlpatterns = [
    *views_ledger.urlpatterns,
    *views_documents.urlpatterns,
    *views_billing.urlpatterns,
    # The reports (registered in reports.py) and their list, at /<org>/finance/reports/.
    *report_urls("finance"),
]
