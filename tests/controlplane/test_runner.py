"""The loop that runs the control plane beside the server, and its management command."""

import asyncio
import random
import time

import pytest
from django.core.management import call_command
from django.db import connection

from apiserver import accounts
from apiserver.accounts import system_user
from apiserver.client import Client
from apiserver.models import ClusterUser
from apiserver.registry import kinds
from controlplane import runner
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver, run
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


def _plane() -> tuple[ControlPlane, FakeClock, Client]:
    kinds.invalidate()
    alice = ClusterUser.objects.create(name="alice", namespace="alice")
    accounts.open_learner(alice)
    clock = FakeClock()
    plane = ControlPlane(
        clock=clock,
        config=Config(nodes=1, timing=Timing(step=1), interval=0.01),
        rng=random.Random(1),
    )
    return plane, clock, Client(alice, "kubectl")


def test_the_loop_steps_only_when_the_store_moved_or_a_timer_is_due(catalog):
    plane, clock, shopper = _plane()
    driver = Driver(plane)
    assert driver.tick()  # first sight: register the node, list everything
    while driver.tick():  # its own writes move the store once more, then it settles
        pass
    assert not driver.tick()

    shopper.create("pods", pod_manifest("web"), "alice")
    assert driver.tick()
    assert shopper.get("pods", "web", "alice")["spec"]["nodeName"] == "node-1"
    while driver.tick():
        pass
    assert not driver.tick()
    clock.advance(1)
    assert driver.tick()  # the kubelet's next step fell due, with no write to announce it
    clock.advance(1)
    while driver.tick():
        pass
    assert shopper.get("pods", "web", "alice")["status"]["phase"] == "Running"
    assert plane.next_due() is None
    assert not driver.tick()


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory test database locks tables across threads; file SQLite uses WAL",
)
@pytest.mark.django_db(transaction=True)
def test_the_loop_runs_on_its_own_thread_and_stops_when_asked(catalog):
    plane, clock, shopper = _plane()

    async def scenario() -> dict:
        stop = asyncio.Event()
        task = asyncio.create_task(run(stop, plane))
        await _in_thread(lambda: shopper.create("pods", pod_manifest("web"), "alice"))
        await _until(
            lambda: shopper.get("pods", "web", "alice"), lambda p: p["spec"].get("nodeName")
        )
        clock.advance(5)
        pod = await _until(
            lambda: shopper.get("pods", "web", "alice"), lambda p: p["status"]["phase"] == "Running"
        )
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        return pod

    pod = asyncio.run(scenario())
    assert pod["spec"]["nodeName"] == "node-1"


async def _until(read, done, timeout: float = 10.0):
    """Poll until the loop has done its work; fails rather than hangs."""
    deadline = time.monotonic() + timeout
    while True:
        value = await _in_thread(read)
        if done(value):
            return value
        assert time.monotonic() < deadline, value
        await asyncio.sleep(0.02)


async def _in_thread(function):
    """Call `function` on a helper thread, closing that thread's connection afterwards."""

    def call():
        try:
            return function()
        finally:
            connection.close()

    return await asyncio.to_thread(call)


def test_a_tick_without_a_nudge_reads_nothing_until_the_resync_is_due(
    catalog, django_assert_num_queries, monkeypatch
):
    plane, clock, shopper = _plane()
    driver = Driver(plane)
    while driver.tick():
        pass
    shopper.create("pods", pod_manifest("web"), "alice")

    with django_assert_num_queries(0):
        assert not driver.tick(changed=False)  # not told: the new Pod waits

    monkeypatch.setattr(runner, "RESYNC_SECONDS", 0.0)
    assert driver.tick(changed=False)  # the resync reads the watches anyway
    assert shopper.get("pods", "web", "alice")["spec"]["nodeName"] == "node-1"


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory test database locks tables across threads; file SQLite uses WAL",
)
@pytest.mark.django_db(transaction=True)
def test_the_loop_acts_on_a_change_when_told_and_reads_nothing_while_idle(catalog, monkeypatch):
    """With a timer far longer than the test, only the watch feed's nudge can bring the
    scheduler to the new Pod; and while nothing changes, the informer is never read."""
    plane, clock, shopper = _plane()
    plane.config = Config(nodes=1, timing=Timing(step=1), interval=30.0)
    reads = []
    sync = runner.Informer.sync
    monkeypatch.setattr(runner.Informer, "sync", lambda self: reads.append(1) or sync(self))
    monkeypatch.setattr(runner, "RESYNC_SECONDS", 3600.0)

    async def scenario() -> tuple[int, dict]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(stop, plane))
        await _until(lambda: plane.started, bool)
        await asyncio.sleep(1.0)  # settle: its own writes nudge it once more
        before = len(reads)
        await asyncio.sleep(1.0)  # nothing to tell
        idle_reads = len(reads) - before
        await _in_thread(lambda: shopper.create("pods", pod_manifest("web"), "alice"))
        pod = await _until(
            lambda: shopper.get("pods", "web", "alice"), lambda p: p["spec"].get("nodeName")
        )
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        return idle_reads, pod

    idle_reads, pod = asyncio.run(scenario())

    assert idle_reads == 0
    assert pod["spec"]["nodeName"] == "node-1"
