from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
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
        # Each app declares its daily and monthly jobs in tasks.py.
        autodiscover_modules("tasks")
