"""Running the control plane: one `step` reconciles everything once at a given time.

The loop (`run`) steps when a watched kind changed (the watch feed tells it at once) or
a kubelet timer is due (it looks every ~250 ms). Like client-go informers, the components
LIST each kind once through the API server, then WATCH it from the list's resourceVersion
through the same front door (authenticated, authorized and audited like any client's
watch) to keep their cache current.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import time
from datetime import datetime

from django.db import close_old_connections, connection

from apiserver.accounts import system_user
from apiserver.client import ApiError, Client, Watch, nudged_by
from controlplane.clock import Clock, SystemClock
from controlplane.config import Config
from controlplane.controllers import WATCHED as CONTROLLED
from controlplane.controllers import ControllerManager, World
from controlplane.controllers.common import Names
from controlplane.events import EventRecorder
from controlplane.kubelet import Kubelet
from controlplane.nodes import node_manifest
from controlplane.scheduler import Scheduler

log = logging.getLogger("warehouse.controlplane")

# The kinds the control plane follows, as the client names them: what the scheduler and the
# kubelets need, then whatever the registered controllers watch.
WATCHED = tuple(dict.fromkeys(("nodes", "pods", *CONTROLLED)))

# Between nudges the informer reads its watches anyway this often (a lost nudge costs
# at most this much delay), as client-go's informers resync.
RESYNC_SECONDS = 10.0


class Informer:
    """A cache of every watched object: one LIST each, then a WATCH from where it ended."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.objects: dict[str, dict[tuple[str, str], dict]] = {r: {} for r in WATCHED}
        self.watches: dict[str, Watch] = {}

    def sync(self) -> bool:
        """Bring the cache up to date; True when a watched object changed since last time.

        Writes to kinds nobody here watches (Events, above all) are not seen at all, so
        recording an event never wakes the control plane again.
        """
        if not self.watches:
            self._relist()
            return True
        changed = False
        try:
            for resource, stream in self.watches.items():
                for event_type, obj in stream.poll():
                    changed |= self._apply(resource, event_type, obj)
        except ApiError as error:
            if error.code != 410:
                raise
            self._relist()  # the log was compacted past us: start again, as informers do
            return True
        return changed

    def _relist(self) -> None:
        self.watches = {}
        for resource in WATCHED:
            listing = self.client.list(resource)
            self.objects[resource] = {_key(o): o for o in listing.get("items", [])}
            version = listing["metadata"]["resourceVersion"]
            self.watches[resource] = self.client.watch(resource, resource_version=version)

    def _apply(self, resource: str, event_type: str, obj: dict) -> bool:
        key = _key(obj)
        current = self.objects[resource].get(key)
        if current is not None and int(current["metadata"].get("resourceVersion", 0)) >= int(
            obj["metadata"].get("resourceVersion", 0)
        ):
            return False  # the cache already holds this state or a newer one
        if event_type == "DELETED":
            return self.objects[resource].pop(key, None) is not None
        self.objects[resource][key] = obj
        return True

    def world(self) -> World:
        return World(**{r: list(items.values()) for r, items in self.objects.items()})


def _key(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


class ControlPlane:
    """Scheduler, one kubelet per node, and the controllers, all acting through the API.

    Its one random choice is the seed the generated names are drawn from (`Names`): the
    config's, else one drawn from `rng` (tests pass a seeded one), else a fresh one.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        config: Config | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.config = config or Config.from_settings()
        seed = self.config.seed
        if seed is None:
            seed = (rng or random.SystemRandom()).getrandbits(63)
        self.names = Names(seed)
        self.started = False

    def start(self) -> None:
        """Create the system users and register the nodes (idempotent)."""
        controller_client = Client(system_user("kube-controller-manager"), "controller")
        scheduler_client = Client(system_user("kube-scheduler"), "scheduler")
        self.informer = Informer(controller_client)
        self.controllers = ControllerManager(
            controller_client,
            EventRecorder(controller_client, "controller-manager"),
            self.names,
        )
        self.scheduler = Scheduler(
            scheduler_client, EventRecorder(scheduler_client, "default-scheduler")
        )
        self.kubelets: list[Kubelet] = []
        for index in range(1, self.config.nodes + 1):
            name = f"node-{index}"
            client = Client(system_user(f"node:{name}"), "kubelet")
            kubelet = Kubelet(
                name, client, EventRecorder(client, "kubelet", host=name), self.config.timing
            )
            self._register(kubelet, index)
            self.kubelets.append(kubelet)
        self.started = True

    def _register(self, kubelet: Kubelet, index: int) -> None:
        """A kubelet registers its Node, then reports its status, as real kubelets do."""
        config = self.config
        wanted = node_manifest(
            index, self.clock.now(), config.node_cpu, config.node_memory, config.node_pods
        )
        try:
            node = kubelet.client.get("nodes", kubelet.node)
        except ApiError as error:
            if error.code != 404:
                raise
            node = kubelet.client.create("nodes", wanted)
        if not (node.get("status") or {}).get("conditions"):

            def report(current: dict) -> dict:
                current["status"] = wanted["status"]
                return current

            kubelet.client.update_status("nodes", kubelet.node, None, report)

    def step(self, now: datetime) -> None:
        """Reconcile everything once, as of `now`."""
        if not self.started:
            self.start()
        self.informer.sync()
        world = self.informer.world()
        registered = {n["metadata"]["name"] for n in world.nodes}
        for index, kubelet in enumerate(self.kubelets, start=1):
            if kubelet.node not in registered:
                self._register(kubelet, index)
        self.controllers.sync(world, now)
        for pod in self.scheduler.schedule(world.pods, world.nodes, now):
            world.put("pods", pod)
        self.controllers.finish_orphaned_pods(world, {k.node for k in self.kubelets})
        for kubelet in self.kubelets:
            for pod in kubelet.sync(world.pods, now):
                world.put("pods", pod)
        self.controllers.sync_after_kubelets(world, now)
        self.controllers.settle(now)
        self.scheduler.retries.settle(now)
        for kubelet in self.kubelets:
            kubelet.retries.settle(now)

    def run_once(self) -> None:
        self.step(self.clock.now())

    def next_due(self) -> datetime | None:
        """The earliest time a kubelet, the scheduler or a controller has work that no write
        will announce (a container's next move, a retry, a CronJob's next schedule)."""
        if not self.started:
            return None
        times = [k.next_due() for k in self.kubelets]
        times.append(self.scheduler.next_retry())
        times.append(self.controllers.next_due())
        return min((t for t in times if t is not None), default=None)


class Driver:
    """Decides when to step: a watched object changed, or a timer fell due.

    A step that failed (the API server refused, say) stays pending and is retried on the
    next tick, so the control plane catches up by itself once the API answers again.
    """

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.pending = False
        self.synced_at = float("-inf")

    def tick(self, changed: bool = True) -> bool:
        """Step if there is anything to do; True when it stepped. Runs on the worker thread.

        The informer reads its watches only when told that something it follows changed
        (`changed`), and at least every RESYNC_SECONDS in case a nudge was lost, as
        informers resync; a tick that is neither only looks at the timers.
        """
        plane = self.plane
        if not plane.started:
            plane.start()
            log.info("control plane started with %d node(s)", len(plane.kubelets))
        now = time.monotonic()
        if changed or not plane.informer.watches or now - self.synced_at >= RESYNC_SECONDS:
            self.synced_at = now
            self.pending |= plane.informer.sync()
        due = plane.next_due()
        if not self.pending and (due is None or plane.clock.now() < due):
            return False
        plane.run_once()
        self.pending = False
        return True


async def run(
    stop: asyncio.Event,
    plane: ControlPlane | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> None:
    """Run the control plane until `stop` is set; the `serve` command's background task.

    All database work happens on one worker thread of its own (or the given executor), so
    it keeps one connection and never blocks the event loop that serves requests. Between
    steps it waits for a change to a kind it watches (pushed by the watch feed, as a watch
    stream would push it), a timer, or the stop. A failed step is logged and retried with a
    growing pause, never fatal.
    """
    loop = asyncio.get_running_loop()
    owned = executor is None
    worker = executor or concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="controlplane")
    plane = plane or ControlPlane()
    driver = Driver(plane)
    failures = 0
    try:
        async with contextlib.AsyncExitStack() as listening:
            changed: asyncio.Event | None = None
            while not stop.is_set():
                woken = changed is None or changed.is_set()
                if changed is not None:
                    changed.clear()
                try:
                    await loop.run_in_executor(worker, driver.tick, woken)
                    failures = 0
                except ApiError as error:
                    failures += 1
                    log.warning("control plane step stopped by the API server: %s", error)
                except Exception:
                    failures += 1
                    log.exception("control plane step failed")
                    if owned:
                        await loop.run_in_executor(worker, _reset_connection)
                if changed is None and plane.informer.watches:
                    watches = plane.informer.watches.values()
                    changed = await listening.enter_async_context(nudged_by(watches))
                    changed.set()  # whatever was committed before it listened
                pause = plane.config.interval * (1 if not failures else min(2**failures, 40))
                await _first_of(stop, changed if not failures else None, pause)
    finally:
        if owned:
            await loop.run_in_executor(worker, _close_connection)
            worker.shutdown(wait=False)


async def _first_of(stop: asyncio.Event, changed: asyncio.Event | None, pause: float) -> None:
    """Wait until `stop` or `changed` is set, or `pause` seconds have gone."""
    waits = [asyncio.ensure_future(stop.wait())]
    if changed is not None:
        waits.append(asyncio.ensure_future(changed.wait()))
    try:
        await asyncio.wait(waits, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


def _close_connection() -> None:
    """Close the worker thread's own connection (the name resolves per thread)."""
    connection.close()


def _reset_connection() -> None:
    connection.close()
    close_old_connections()
