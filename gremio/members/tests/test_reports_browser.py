"""A report's chart is drawn by the browser, and clicking a bar opens the records behind it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gremio.core.tests.factories import OrganisationFactory, member_of

from .factories import CompanyFactory, ServiceDeliveryFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_click_a_bar_to_see_the_services_behind_it(page: Any) -> None:
    organisation = OrganisationFactory.create(slug="charts", language="en")
    member_of(organisation, "director", email="director@charts.example")
    legal = ServiceFactory.create(organisation=organisation, name="Legal advice")
    training = ServiceFactory.create(organisation=organisation, name="Training")
    company = CompanyFactory.create(organisation=organisation)
    for day, service in ((3, legal), (4, legal), (5, legal), (6, training)):
        ServiceDeliveryFactory.create(
            organisation=organisation,
            company=company,
            service=service,
            date=dt.date(2025, 5, day),
        )

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "director@charts.example")
    page.fill("input[name=password]", "secret-pass-123")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/charts/")
    page.goto("/charts/members/reports/services-delivered/?from=2025-01-01&to=2025-12-31")
    chart = page.locator(".report-chart")
    page.wait_for_selector(".report-chart[data-ready]")  # ECharts drew the server's JSON
    # The middle of the first bar (Legal advice, 3 deliveries), in page pixels.
    x, y = page.evaluate(
        """() => {
            const chart = echarts.getInstanceByDom(document.querySelector('.report-chart'));
            const bar = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(0);
            return [bar.x + bar.width / 2, bar.y + bar.height / 2];
        }"""
    )
    box = chart.bounding_box()
    assert box is not None
    # Hover first, as a person does: ECharts finds the bar under the pointer on hover.
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(f"**/charts/members/deliveries/?service={legal.pk}*")
    assert page.locator("#object-table tbody tr").count() == 3
