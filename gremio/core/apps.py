from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "gremio.core"
    label = "core"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from . import changelog, navigation, permissions

        changelog.connect()
        permissions.register_rules()
        navigation.register_core()
