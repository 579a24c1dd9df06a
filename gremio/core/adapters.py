from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """People join through an invitation, not by signing up on their own."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
