"""Served on other ports, the kubeconfigs handed out work with kubectl as they are.

`manage.py serve` on free ports, started as `make run PORT=… API_PORT=…` starts it: DEBUG
on, no WAREHOUSE_API_URL, no SECRET_KEY. The kubeconfig downloaded from the learner page
and the one made by the command the start-up banner prints (pasted into a fresh shell)
must both name the port served, so real kubectl reaches the API without an edit.
"""

import http.cookiejar
import os
import re
import subprocess
import urllib.parse
import urllib.request

import pytest

from support.livecluster import REPO, LiveCluster, free_port, start_serving, stop, wait_until_ready
from tests.e2e.learner import KUBECTL

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (set KUBECTL)"),
]
LEFT_OUT = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "WAREHOUSE_API_URL", "KUBECONFIG")


@pytest.fixture
def served(tmp_path):
    web_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in LEFT_OUT}
    env.update(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WAREHOUSE_STATE_DIR=str(tmp_path / "state"),
        DJANGO_SETTINGS_MODULE="hub.settings",
        PYTHONUNBUFFERED="1",
    )
    cluster = LiveCluster(
        workdir=tmp_path,
        env=env,
        web_url=f"http://127.0.0.1:{web_port}",
        api_url=f"https://127.0.0.1:{api_port}",
        log_file=tmp_path / "server.log",
        database_url=env["DATABASE_URL"],
    )
    cluster.manage("migrate", "--noinput")
    cluster.manage("seed_catalog")
    start_serving(cluster, "wb")
    try:
        wait_until_ready(cluster)
        yield cluster
    finally:
        stop(cluster.process)


def _kubectl(kubeconfig, home, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _downloaded_kubeconfig(cluster: LiveCluster, name: str) -> str:
    """Sign in on the learner page as a browser would, then download the kubeconfig."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(f"{cluster.web_url}/learner/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"name": name, "csrfmiddlewaretoken": token}).encode()
    browser.open(f"{cluster.web_url}/learner/", data=body, timeout=30).read()
    return browser.open(f"{cluster.web_url}/learner/kubeconfig/", timeout=30).read().decode()


def test_kubeconfigs_name_the_port_served(served, tmp_path):
    downloaded = tmp_path / "downloaded.yaml"
    downloaded.write_text(_downloaded_kubeconfig(served, "porter"))
    assert f"server: {served.api_url}" in downloaded.read_text()
    listed = _kubectl(downloaded, tmp_path, "get", "pods")
    assert listed.returncode == 0, listed.stderr
    assert "No resources found in porter namespace." in listed.stderr

    banner = served.log_file.read_text()
    command = re.search(r"kubeconfig:\s+(.+?) > alice\.yaml", banner).group(1)
    made = tmp_path / "alice.yaml"
    fresh_shell = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    pasted = subprocess.run(
        ["bash", "-c", f"{command} > {made}"],
        cwd=REPO,
        env=fresh_shell,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pasted.returncode == 0, f"{command}\n{pasted.stderr}"
    listed = _kubectl(made, tmp_path, "get", "pods")
    assert listed.returncode == 0, listed.stderr
    assert "No resources found in alice namespace." in listed.stderr
