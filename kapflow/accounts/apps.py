from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kapflow.accounts"
    label = "accounts"
