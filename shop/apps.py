from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The pages a learner shops with: sign-in, order form, checkout receipt, order history."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "shop"
    verbose_name = "Shop front"
