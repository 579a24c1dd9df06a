from typing import Any

from django.http import HttpRequest

from .navigation import menu_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page shell needs: the menu and the user's organisations."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def organisations() -> list[Any]:
        from .selectors import organisations_for_user

        return list(organisations_for_user(user=user))

    return {
        "menu": lambda: menu_for(request),
        "my_organisations": organisations,
        "organisation": getattr(request, "organisation", None),
    }
