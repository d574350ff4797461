from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ApiserverConfig(AppConfig):
    name = "apiserver"
    verbose_name = "API server (the website)"

    def ready(self) -> None:
        from apiserver.endpoints import watch
        from apiserver.models import ClusterUser

        # A revoked token ends its open watches in every process, told rather than polled.
        post_save.connect(watch.credentials_changed, sender=ClusterUser)
        post_delete.connect(watch.credentials_changed, sender=ClusterUser)
