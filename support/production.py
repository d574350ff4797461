"""Start `deploy/run-production.sh` on free loopback ports and a fresh database, for tests
and the workshop benchmark; stop it (the whole process group) afterwards."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from support.databases import environment, own_database, redis_url
from support.livecluster import REPO, LiveCluster, free_port, wait_until_ready

SCRIPT = REPO / "deploy" / "run-production.sh"


@contextlib.contextmanager
def production_server(
    workdir: Path,
    database: str = "postgres",
    api_workers: int = 3,
    web_workers: int = 2,
    controlplane: bool = True,
    **extra_env: str,
) -> Iterator[LiveCluster]:
    """The production script running with its own database, certificates and ports."""
    workdir.mkdir(parents=True, exist_ok=True)
    web_port, api_port = free_port(), free_port()
    with own_database(database, workdir) as url:
        env = environment(
            url,
            WAREHOUSE_STATE_DIR=str(workdir / "state"),
            PORT=str(web_port),
            API_PORT=str(api_port),
            API_WORKERS=str(api_workers),
            WEB_WORKERS=str(web_workers),
            CONTROLPLANE="1" if controlplane else "0",
            WAREHOUSE_API_URL=f"https://127.0.0.1:{api_port}",
            WAREHOUSE_RATE_LIMIT_BACKEND="redis",
        )
        env.pop("SECRET_KEY")  # the script makes and keeps one, as in real use
        env.update(extra_env)
        cluster = LiveCluster(
            workdir=workdir,
            env=env,
            web_url=f"http://127.0.0.1:{web_port}",
            api_url=f"https://127.0.0.1:{api_port}",
            log_file=workdir / "production.log",
            database_url=url,
        )
        with open(cluster.log_file, "wb") as log:
            cluster.process = subprocess.Popen(
                ["bash", str(SCRIPT)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # The script's SECRET_KEY is needed by `manage.py kubeconfig` and friends too.
        try:
            wait_until_ready(cluster)
            cluster.env["SECRET_KEY"] = (workdir / "state" / "secret_key").read_text().strip()
            yield cluster
        finally:
            _stop_group(cluster.process)


def _stop_group(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # uvicorn workers may outlive their parent by a moment; give the group a last word.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def redis_url_for_tests() -> str:
    return redis_url(14)
