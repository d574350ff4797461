"""The loop that runs the control plane beside the server, and its management command."""

import asyncio
import concurrent.futures
import random
import time

import pytest
from django.core.management import call_command
from django.db import connection

from apiserver import kinds, store
from apiserver.models import ClusterUser
from controlplane.client import Client, system_user
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, run
from tests.controlplane.conftest import pod_manifest


def test_the_command_registers_the_nodes_once(catalog, settings):
    kinds.invalidate()
    settings.WAREHOUSE_NODES = 2
    call_command("controlplane", "--once")
    call_command("controlplane", "--once")
    reader = Client(system_user("kube-controller-manager"), "controller")
    nodes = reader.list("nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == ["node-1", "node-2"]
    ready = [c for c in nodes[0]["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"
    assert nodes[0]["status"]["allocatable"]["pods"] == "110"


class InlineExecutor(concurrent.futures.Executor):
    """Runs the loop's database work on the test's own thread, inside its transaction."""

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting coroutine
            future.set_exception(error)
        return future


def _scenario(plane: ControlPlane, clock: FakeClock, shopper: Client, executor, read):
    async def scenario() -> dict:
        stop = asyncio.Event()
        task = asyncio.create_task(run(stop, plane, executor))
        await read(lambda: shopper.create("pods", pod_manifest("web"), "alice"))
        await _until(
            read, lambda: shopper.get("pods", "web", "alice"), lambda p: p["spec"].get("nodeName")
        )
        clock.advance(5)
        pod = await _until(
            read,
            lambda: shopper.get("pods", "web", "alice"),
            lambda p: p["status"]["phase"] == "Running",
        )
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        return pod

    return asyncio.run(scenario())


def _plane() -> tuple[ControlPlane, FakeClock, Client]:
    kinds.invalidate()
    alice = ClusterUser.objects.create(name="alice", namespace="alice")
    store.ensure_namespace(alice)
    clock = FakeClock()
    plane = ControlPlane(
        clock=clock,
        config=Config(nodes=1, timing=Timing(step=1), interval=0.01),
        rng=random.Random(1),
    )
    return plane, clock, Client(alice, "kubectl")


async def _inline(function):
    return function()


def test_the_loop_follows_changes_and_stops_when_asked(catalog, monkeypatch):
    # The inline executor runs database calls on the event loop's thread, on purpose.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    plane, clock, shopper = _plane()
    pod = _scenario(plane, clock, shopper, InlineExecutor(), _inline)
    assert pod["spec"]["nodeName"] == "node-1"
    assert pod["status"]["containerStatuses"][0]["ready"] is True


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory test database locks tables across threads; file SQLite uses WAL",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_loop_does_its_database_work_on_its_own_thread(catalog):
    plane, clock, shopper = _plane()
    pod = _scenario(plane, clock, shopper, None, asyncio.to_thread)
    assert pod["status"]["phase"] == "Running"


async def _until(read, get, done, timeout: float = 10.0):
    """Poll until the loop has done its work; fails rather than hangs."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read(get)
        if done(value):
            return value
        assert time.monotonic() < deadline, value
        await asyncio.sleep(0.02)
