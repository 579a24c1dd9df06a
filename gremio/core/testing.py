"""Shared test machinery for every module.

``OrganisationScopingTests`` proves, for one organisation model, that a user
of organisation A meets a 404 for organisation B's records everywhere:
list, detail, edit, delete, history, export and the API. A module adds a
model to it with one class::

    class TestCompanyScoping(OrganisationScopingTests, TestCase):
        factory = CompanyFactory

``test_every_model_has_scoping_tests`` (in core's tests) fails when a model
with pages has no such class.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.test import TestCase
from django.urls import reverse

from gremio.core.views.generic import ModelPages

PK_VIEWS = ("detail", "edit", "delete", "history")

#: model -> factory, filled by every OrganisationScopingTests subclass, so that
#: tests walking all URLs can make a record of any model.
FACTORIES: dict[type[models.Model], Any] = {}


def load_all_test_modules() -> None:
    """Import every app's test modules, so that FACTORIES is complete."""
    import importlib
    import pkgutil

    import gremio

    for module in pkgutil.walk_packages(gremio.__path__, "gremio."):
        if ".tests." in module.name and module.name.rsplit(".", 1)[-1].startswith("test_"):
            importlib.import_module(module.name)


def api_prefix_for(model: type[models.Model]) -> str | None:
    from config.api import router

    for prefix, viewset, _basename in router.registry:
        queryset = getattr(viewset, "queryset", None)
        if queryset is not None and queryset.model is model:
            return prefix
    return None


class OrganisationScopingTests:
    """Mixin for ``django.test.TestCase``: cross-organisation access is a 404."""

    factory: ClassVar[Any] = None
    #: Extra keyword arguments for the factory (beyond ``organisation``).
    factory_kwargs: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.factory is not None:
            FACTORIES[cls.factory._meta.model] = cls.factory

    org_a: Any
    org_b: Any
    user_a: Any
    obj_a: Any
    obj_b: Any

    @classmethod
    def setUpTestData(cls) -> None:
        from gremio.core.tests.factories import OrganisationFactory, member_of

        cls.org_a = OrganisationFactory(slug="scope-a", name="Cámara A")
        cls.org_b = OrganisationFactory(slug="scope-b", name="Cámara B")
        cls.user_a = member_of(cls.org_a, "admin", email="admin-a@example.com")
        cls.obj_a = cls.factory(organisation=cls.org_a, **cls.factory_kwargs)
        cls.obj_b = cls.factory(organisation=cls.org_b, **cls.factory_kwargs)

    @property
    def model(self) -> type[models.Model]:
        return self.factory._meta.model

    @property
    def pages(self) -> ModelPages | None:
        return ModelPages.registry.get(self.model)

    def setUp(self) -> None:
        self.client.force_login(self.user_a)  # type: ignore[attr-defined]

    def url(self, view: str, org: Any, obj: Any = None) -> str:
        assert self.pages is not None
        kwargs: dict[str, Any] = {"org": org.slug}
        if view in PK_VIEWS:
            kwargs["pk"] = obj.pk
        return reverse(
            f"{self.model._meta.app_label}:{self.model._meta.model_name}_{view}", kwargs=kwargs
        )

    def snapshot(self) -> list[dict[str, Any]]:
        return list(self.model._default_manager.filter(pk=self.obj_b.pk).values())

    # Pages ------------------------------------------------------------------

    def test_own_records_are_reachable(self) -> None:
        # Without this, the 404 tests below could pass for the wrong reason.
        if self.pages is None:
            return
        for view in ("list", "detail"):
            if self.pages.has(view):
                response = self.client.get(self.url(view, self.org_a, self.obj_a))  # type: ignore[attr-defined]
                assert response.status_code == 200, (view, response.status_code)

    def test_other_organisations_record_is_404_in_own_organisation(self) -> None:
        if self.pages is None:
            return
        before = self.snapshot()
        for view in PK_VIEWS:
            if not self.pages.has(view):
                continue
            url = self.url(view, self.org_a, self.obj_b)
            assert self.client.get(url).status_code == 404, url  # type: ignore[attr-defined]
            if view in ("edit", "delete"):
                assert self.client.post(url, {}).status_code == 404, url  # type: ignore[attr-defined]
        assert self.snapshot() == before

    def test_other_organisations_urls_are_404(self) -> None:
        if self.pages is None:
            return
        before = self.snapshot()
        for view in self.pages.views:
            url = self.url(view, self.org_b, self.obj_b)
            assert self.client.get(url).status_code == 404, url  # type: ignore[attr-defined]
            assert self.client.post(url, {}).status_code == 404, url  # type: ignore[attr-defined]
        assert self.client.get(self.url("list", self.org_b) + "?_export=csv").status_code == 404  # type: ignore[attr-defined]
        assert self.snapshot() == before

    def test_list_and_export_hold_only_own_records(self) -> None:
        if self.pages is None or not self.pages.has("list"):
            return
        list_url = self.url("list", self.org_a)
        ids_a = self.list_ids(self.client.get(list_url))  # type: ignore[attr-defined]
        assert self.obj_a.pk in ids_a and self.obj_b.pk not in ids_a
        for fmt in ("csv", "xlsx"):
            response = self.client.get(f"{list_url}?_export={fmt}")  # type: ignore[attr-defined]
            assert response.status_code == 200
        csv = self.client.get(f"{list_url}?_export=csv").content.decode()  # type: ignore[attr-defined]
        own = self.model._default_manager.filter(organisation=self.org_a).count()
        assert (
            len([line for line in csv.splitlines() if line.strip()]) == own + 1
        )  # header + own rows

    @staticmethod
    def list_ids(response: Any) -> set[int]:
        table = response.context["table"]
        return {row.record.pk for row in table.paginated_rows}

    # API --------------------------------------------------------------------

    def test_api_is_scoped(self) -> None:
        prefix = api_prefix_for(self.model)
        if prefix is None:
            return
        client = self.client  # type: ignore[attr-defined]
        own_list = client.get(f"/api/v1/{self.org_a.slug}/{prefix}/")
        assert own_list.status_code == 200
        ids = {row["id"] for row in own_list.json()["results"]}
        assert self.obj_a.pk in ids and self.obj_b.pk not in ids
        assert client.get(f"/api/v1/{self.org_a.slug}/{prefix}/{self.obj_b.pk}/").status_code == 404
        assert client.get(f"/api/v1/{self.org_b.slug}/{prefix}/").status_code == 404
        assert client.get(f"/api/v1/{self.org_b.slug}/{prefix}/{self.obj_b.pk}/").status_code == 404
        before = self.snapshot()
        for method in ("put", "patch", "delete"):
            response = getattr(client, method)(
                f"/api/v1/{self.org_a.slug}/{prefix}/{self.obj_b.pk}/",
                {},
                content_type="application/json",
            )
            assert response.status_code in (404, 405), (method, response.status_code)
        assert self.snapshot() == before


__all__ = ["OrganisationScopingTests", "TestCase"]
