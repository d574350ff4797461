"""With DEBUG off the shop still looks right: hashed static files, and a clean deploy check."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def test_collected_static_files_are_served_hashed_and_cached_for_good(settings, tmp_path, catalog):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    browser = Client()  # a new client builds WhiteNoise afresh, over the new STATIC_ROOT

    page = browser.get("/").content.decode()
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
    htmx = re.search(r'src="(/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js)"', page)

    assert css and htmx, "pages should link the hashed files"
    for url in (css[1], htmx[1]):
        response = browser.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert "immutable" in response["Cache-Control"]
        assert response["Content-Encoding"] == "gzip"


def test_the_deploy_check_finds_nothing_serious_with_production_settings():
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DEBUG": "false",
        "SECRET_KEY": "k3y-" + "0123456789abcdefghij" * 3,
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_COOKIES": "true",
        "SECURE_HSTS_SECONDS": "31536000",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    # Preloading HSTS is a promise to browser vendors, made only on purpose.
    assert set(re.findall(r"security\.[EW]\d+", result.stderr)) <= {"security.W021"}


def test_the_server_takes_interpreter_turns_as_configured():
    """The ASGI application sets how often its threads take turns (hub/asgi.py)."""
    code = "import sys, hub.asgi; print(sys.getswitchinterval())"
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    for setting, expected in ((None, 0.001), ("2.5", 0.0025)):
        env = {**inherited, "DJANGO_SETTINGS_MODULE": "hub.settings", "DEBUG": "true"}
        env.pop("WAREHOUSE_SWITCH_INTERVAL_MS", None)
        if setting is not None:
            env["WAREHOUSE_SWITCH_INTERVAL_MS"] = setting
        printed = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert printed.returncode == 0, printed.stderr
        assert float(printed.stdout.strip().splitlines()[-1]) == expected
