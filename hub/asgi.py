import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django_application = get_asgi_application()

from apiserver.server.asgi import SharedWatchThreads  # noqa: E402 - needs Django set up

application = SharedWatchThreads(django_application)
