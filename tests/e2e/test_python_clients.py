"""Four Python clients learners bring, each unchanged, through CRUD and watch on a live server.

The official `kubernetes` client, `lightkube`, `kr8s` and `kubernetes-asyncio` each create,
read, list by label, patch (merge and, where the client offers it, server-side apply),
replace, watch and delete a ConfigMap or a Deployment, and meet a 404 and a 409 as their own
exception types. A table of case x client is printed at the end of the module.
"""

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import kr8s
import lightkube
import pytest
from kr8s.objects import ConfigMap as Kr8sConfigMap
from kr8s.objects import Deployment as Kr8sDeployment
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig
from kubernetes_asyncio import watch as awatch
from kubernetes_asyncio.client.exceptions import ApiException as AsyncApiException
from lightkube import codecs
from lightkube.resources.apps_v1 import Deployment as LkDeployment
from lightkube.resources.core_v1 import ConfigMap as LkConfigMap
from lightkube.types import PatchType

pytestmark = pytest.mark.e2e

NAMESPACE = "alice"
SUITE = {"suite": "python-clients"}
MERGE = "application/merge-patch+json"
APPLY = "application/apply-patch+yaml"
WATCH_SECONDS = 10
CLIENTS = ("kubernetes", "lightkube", "kr8s", "kubernetes-asyncio")
CASES = (
    "create",
    "get",
    "list-selector",
    "merge-patch",
    "server-side-apply",
    "replace",
    "watch",
    "delete",
    "404-not-found",
    "409-conflict",
)
RESULTS: dict[tuple[str, str], str] = {}


def _config_map(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {**SUITE, "case": name}},
        "data": data or {"shelf": "a1"},
    }


def _deployment(name: str) -> dict[str, Any]:
    """No replicas: the clients' traffic is what is measured, not the pods'."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {**SUITE, "case": name}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "shelf", "image": "nginx:1.27"}]},
            },
        },
    }


def _events_until_deleted(stream, name_of: Callable[[Any], str], name: str) -> list[str]:
    seen = []
    for event_type, obj in stream:
        if name_of(obj) == name:
            seen.append(event_type)
        if event_type == "DELETED":
            break
    return seen


def _watched(start: Callable[[], list[str]], change: Callable[[], None]) -> list[str]:
    """Run the watch in a thread while `change` writes; the events it saw, in order."""
    seen: list[str] = []
    watcher = threading.Thread(target=lambda: seen.extend(start()), daemon=True)
    watcher.start()
    change()
    watcher.join(WATCH_SECONDS)
    assert not watcher.is_alive(), f"watch still waiting after {WATCH_SECONDS}s, saw {seen}"
    return seen


class Official:
    """The official `kubernetes` client."""

    def __init__(self, kubeconfig: str) -> None:
        configuration = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
        self.api = client.ApiClient(configuration)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)

    def create(self, name: str) -> None:
        made = self.core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        deployment = self.apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        assert made.metadata.uid and deployment.metadata.uid
        assert deployment.spec.strategy.type == "RollingUpdate"

    def get(self, name: str) -> None:
        self.core.create_namespaced_config_map(NAMESPACE, _config_map(name, shelf="b2"))
        assert self.core.read_namespaced_config_map(name, NAMESPACE).data == {"shelf": "b2"}

    def list_selector(self, name: str) -> None:
        self.core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        self.apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        maps = self.core.list_namespaced_config_map(NAMESPACE, label_selector=f"case={name}")
        deployments = self.apps.list_namespaced_deployment(NAMESPACE, label_selector=f"case={name}")
        assert [m.metadata.name for m in maps.items] == [name]
        assert [d.metadata.name for d in deployments.items] == [name]
        assert maps.metadata.resource_version

    def merge_patch(self, name: str) -> None:
        self.apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        patched = self.apps.patch_namespaced_deployment(
            name, NAMESPACE, {"spec": {"revisionHistoryLimit": 3}}, _content_type=MERGE
        )
        assert patched.spec.revision_history_limit == 3

    def server_side_apply(self, name: str) -> None:
        body = _config_map(name, shelf="c3")
        first = self.core.patch_namespaced_config_map(
            name, NAMESPACE, body, field_manager="shop", _content_type=APPLY
        )
        body["data"]["aisle"] = "7"
        again = self.core.patch_namespaced_config_map(
            name, NAMESPACE, body, field_manager="shop", _content_type=APPLY
        )
        assert first.metadata.uid == again.metadata.uid
        assert again.data == {"shelf": "c3", "aisle": "7"}

    def replace(self, name: str) -> None:
        current = self.core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        current.data = {"shelf": "d4"}
        replaced = self.core.replace_namespaced_config_map(name, NAMESPACE, current)
        assert replaced.data == {"shelf": "d4"}
        assert replaced.metadata.resource_version != current.metadata.resource_version

    def watch(self, name: str) -> list[str]:
        since = self.core.list_namespaced_config_map(NAMESPACE).metadata.resource_version
        stream = watch.Watch().stream(
            self.core.list_namespaced_config_map,
            NAMESPACE,
            label_selector=f"case={name}",
            resource_version=since,
            timeout_seconds=WATCH_SECONDS,
        )
        events = ((event["type"], event["object"]) for event in stream)
        return _watched(
            lambda: _events_until_deleted(events, lambda o: o.metadata.name, name),
            lambda: _change_meanwhile(self.core, name),
        )

    def delete(self, name: str) -> None:
        self.core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        self.apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        self.core.delete_namespaced_config_map(name, NAMESPACE)
        self.apps.delete_namespaced_deployment(name, NAMESPACE)
        with pytest.raises(ApiException) as gone:
            self.core.read_namespaced_config_map(name, NAMESPACE)
        assert gone.value.status == 404

    def not_found(self, name: str) -> None:
        with pytest.raises(ApiException) as missing:
            self.core.read_namespaced_config_map(name, NAMESPACE)
        assert missing.value.status == 404

    def conflict(self, name: str) -> None:
        self.core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        with pytest.raises(ApiException) as taken:
            self.core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        assert taken.value.status == 409


def _change_meanwhile(core: client.CoreV1Api, name: str) -> None:
    """The change every watch must see: created, modified, deleted."""
    core.create_namespaced_config_map(NAMESPACE, _config_map(name))
    core.patch_namespaced_config_map(name, NAMESPACE, {"data": {"shelf": "moved"}})
    core.delete_namespaced_config_map(name, NAMESPACE)


class Lightkube:
    """`lightkube`: typed models over httpx."""

    def __init__(self, kubeconfig: str, core: client.CoreV1Api) -> None:
        self.client = lightkube.Client(
            config=lightkube.KubeConfig.from_file(kubeconfig),
            namespace=NAMESPACE,
            field_manager="lightkube",
        )
        self.core = core

    def create(self, name: str) -> None:
        made = self.client.create(codecs.from_dict(_config_map(name)))
        deployment = self.client.create(codecs.from_dict(_deployment(name)))
        assert made.metadata.uid and deployment.metadata.uid

    def get(self, name: str) -> None:
        self.client.create(codecs.from_dict(_config_map(name, shelf="b2")))
        assert self.client.get(LkConfigMap, name).data == {"shelf": "b2"}

    def list_selector(self, name: str) -> None:
        self.client.create(codecs.from_dict(_config_map(name)))
        self.client.create(codecs.from_dict(_deployment(name)))
        maps = list(self.client.list(LkConfigMap, labels={"case": name}))
        deployments = list(self.client.list(LkDeployment, labels={"case": name}))
        assert [m.metadata.name for m in maps] == [name]
        assert [d.metadata.name for d in deployments] == [name]

    def merge_patch(self, name: str) -> None:
        self.client.create(codecs.from_dict(_deployment(name)))
        patched = self.client.patch(
            LkDeployment, name, {"spec": {"revisionHistoryLimit": 3}}, patch_type=PatchType.MERGE
        )
        assert patched.spec.revisionHistoryLimit == 3

    def server_side_apply(self, name: str) -> None:
        body = _config_map(name, shelf="c3")
        first = self.client.apply(codecs.from_dict(body))
        body["data"]["aisle"] = "7"
        again = self.client.apply(codecs.from_dict(body))
        assert first.metadata.uid == again.metadata.uid
        assert again.data == {"shelf": "c3", "aisle": "7"}

    def replace(self, name: str) -> None:
        current = self.client.create(codecs.from_dict(_config_map(name)))
        version = current.metadata.resourceVersion
        current.data = {"shelf": "d4"}
        replaced = self.client.replace(current)
        assert replaced.data == {"shelf": "d4"}
        assert replaced.metadata.resourceVersion != version

    def watch(self, name: str) -> list[str]:
        since = self.client.list(LkConfigMap, chunk_size=1)
        next(iter(since), None)
        stream = self.client.watch(
            LkConfigMap,
            labels={"case": name},
            resource_version=since.resourceVersion,
            server_timeout=WATCH_SECONDS,
        )
        return _watched(
            lambda: _events_until_deleted(stream, lambda o: o.metadata.name, name),
            lambda: _change_meanwhile(self.core, name),
        )

    def delete(self, name: str) -> None:
        self.client.create(codecs.from_dict(_config_map(name)))
        self.client.create(codecs.from_dict(_deployment(name)))
        self.client.delete(LkConfigMap, name)
        self.client.delete(LkDeployment, name)
        with pytest.raises(lightkube.ApiError) as gone:
            self.client.get(LkConfigMap, name)
        assert gone.value.status.code == 404

    def not_found(self, name: str) -> None:
        with pytest.raises(lightkube.ApiError) as missing:
            self.client.get(LkConfigMap, name)
        assert missing.value.status.code == 404
        assert missing.value.status.reason == "NotFound"

    def conflict(self, name: str) -> None:
        self.client.create(codecs.from_dict(_config_map(name)))
        with pytest.raises(lightkube.ApiError) as taken:
            self.client.create(codecs.from_dict(_config_map(name)))
        assert taken.value.status.code == 409
        assert taken.value.status.reason == "AlreadyExists"


class Kr8s:
    """`kr8s`: kubectl-like objects; it has no replace and no server-side apply."""

    unsupported = ("server-side-apply", "replace")

    def __init__(self, kubeconfig: str, core: client.CoreV1Api) -> None:
        self.api = kr8s.api(kubeconfig=kubeconfig, namespace=NAMESPACE)
        self.core = core

    def create(self, name: str) -> None:
        made = Kr8sConfigMap(_config_map(name), api=self.api)
        made.create()
        deployment = Kr8sDeployment(_deployment(name), api=self.api)
        deployment.create()
        assert made.metadata.uid and deployment.metadata.uid

    def get(self, name: str) -> None:
        Kr8sConfigMap(_config_map(name, shelf="b2"), api=self.api).create()
        read = Kr8sConfigMap.get(name, namespace=NAMESPACE, api=self.api)
        assert read.raw["data"] == {"shelf": "b2"}

    def list_selector(self, name: str) -> None:
        Kr8sConfigMap(_config_map(name), api=self.api).create()
        Kr8sDeployment(_deployment(name), api=self.api).create()
        maps = self.api.get("configmaps", namespace=NAMESPACE, label_selector={"case": name})
        deployments = self.api.get("deployments", label_selector={"case": name})
        assert [m.name for m in maps] == [name]
        assert [d.name for d in deployments] == [name]

    def merge_patch(self, name: str) -> None:
        deployment = Kr8sDeployment(_deployment(name), api=self.api)
        deployment.create()
        deployment.patch({"spec": {"revisionHistoryLimit": 3}})
        assert deployment.raw["spec"]["revisionHistoryLimit"] == 3

    def watch(self, name: str) -> list[str]:
        since = self.core.list_namespaced_config_map(NAMESPACE).metadata.resource_version
        stream = self.api.watch(
            "configmaps", namespace=NAMESPACE, label_selector={"case": name}, since=since
        )
        return _watched(
            lambda: _events_until_deleted(stream, lambda o: o.name, name),
            lambda: _change_meanwhile(self.core, name),
        )

    def delete(self, name: str) -> None:
        made = Kr8sConfigMap(_config_map(name), api=self.api)
        made.create()
        deployment = Kr8sDeployment(_deployment(name), api=self.api)
        deployment.create()
        made.delete()
        deployment.delete()
        assert not made.exists()

    def not_found(self, name: str) -> None:
        with pytest.raises(kr8s.NotFoundError):
            Kr8sConfigMap({"metadata": {"name": name}}, api=self.api).refresh()

    def conflict(self, name: str) -> None:
        Kr8sConfigMap(_config_map(name), api=self.api).create()
        with pytest.raises(kr8s.ServerError) as taken:
            Kr8sConfigMap(_config_map(name), api=self.api).create()
        assert taken.value.response.status_code == 409
        assert taken.value.status["reason"] == "AlreadyExists"


class AsyncOfficial:
    """`kubernetes-asyncio`: the official client's shape on aiohttp, one loop per case."""

    def __init__(self, kubeconfig: str, core: client.CoreV1Api) -> None:
        self.kubeconfig = kubeconfig
        self.core = core

    def __getattr__(self, case: str) -> Callable[[str], Any]:
        method = getattr(type(self), f"_{case}", None)
        if method is None:
            raise AttributeError(case)
        return lambda name: asyncio.run(self._with_api(method, name))

    async def _with_api(self, method, name: str) -> Any:
        configuration = aclient.Configuration()
        await aconfig.load_kube_config(
            config_file=self.kubeconfig, client_configuration=configuration
        )
        async with aclient.ApiClient(configuration) as api:
            return await method(self, aclient.CoreV1Api(api), aclient.AppsV1Api(api), name)

    async def _create(self, core, apps, name: str) -> None:
        made = await core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        deployment = await apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        assert made.metadata.uid and deployment.metadata.uid

    async def _get(self, core, apps, name: str) -> None:
        await core.create_namespaced_config_map(NAMESPACE, _config_map(name, shelf="b2"))
        read = await core.read_namespaced_config_map(name, NAMESPACE)
        assert read.data == {"shelf": "b2"}

    async def _list_selector(self, core, apps, name: str) -> None:
        await core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        await apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        maps = await core.list_namespaced_config_map(NAMESPACE, label_selector=f"case={name}")
        deployments = await apps.list_namespaced_deployment(
            NAMESPACE, label_selector=f"case={name}"
        )
        assert [m.metadata.name for m in maps.items] == [name]
        assert [d.metadata.name for d in deployments.items] == [name]

    async def _merge_patch(self, core, apps, name: str) -> None:
        await apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        patched = await apps.patch_namespaced_deployment(
            name, NAMESPACE, {"spec": {"revisionHistoryLimit": 3}}, _content_type=MERGE
        )
        assert patched.spec.revision_history_limit == 3

    async def _server_side_apply(self, core, apps, name: str) -> None:
        body = _config_map(name, shelf="c3")
        first = await core.patch_namespaced_config_map(
            name, NAMESPACE, body, field_manager="shop", _content_type=APPLY
        )
        body["data"]["aisle"] = "7"
        again = await core.patch_namespaced_config_map(
            name, NAMESPACE, body, field_manager="shop", _content_type=APPLY
        )
        assert first.metadata.uid == again.metadata.uid
        assert again.data == {"shelf": "c3", "aisle": "7"}

    async def _replace(self, core, apps, name: str) -> None:
        current = await core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        version = current.metadata.resource_version
        current.data = {"shelf": "d4"}
        replaced = await core.replace_namespaced_config_map(name, NAMESPACE, current)
        assert replaced.data == {"shelf": "d4"}
        assert replaced.metadata.resource_version != version

    async def _watch(self, core, apps, name: str) -> list[str]:
        since = (await core.list_namespaced_config_map(NAMESPACE)).metadata.resource_version
        seen: list[str] = []

        async def follow() -> None:
            async with awatch.Watch().stream(
                core.list_namespaced_config_map,
                NAMESPACE,
                label_selector=f"case={name}",
                resource_version=since,
                timeout_seconds=WATCH_SECONDS,
            ) as stream:
                async for event in stream:
                    seen.append(event["type"])
                    if event["type"] == "DELETED":
                        return

        watching = asyncio.create_task(follow())
        await asyncio.to_thread(_change_meanwhile, self.core, name)
        await asyncio.wait_for(watching, WATCH_SECONDS)
        return seen

    async def _delete(self, core, apps, name: str) -> None:
        await core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        await apps.create_namespaced_deployment(NAMESPACE, _deployment(name))
        await core.delete_namespaced_config_map(name, NAMESPACE)
        await apps.delete_namespaced_deployment(name, NAMESPACE)
        with pytest.raises(AsyncApiException) as gone:
            await core.read_namespaced_config_map(name, NAMESPACE)
        assert gone.value.status == 404

    async def _not_found(self, core, apps, name: str) -> None:
        with pytest.raises(AsyncApiException) as missing:
            await core.read_namespaced_config_map(name, NAMESPACE)
        assert missing.value.status == 404

    async def _conflict(self, core, apps, name: str) -> None:
        await core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        with pytest.raises(AsyncApiException) as taken:
            await core.create_namespaced_config_map(NAMESPACE, _config_map(name))
        assert taken.value.status == 409


@pytest.fixture(scope="module")
def drivers(live_cluster, request):
    """One driver per client, sharing the learner's kubeconfig; the objects go afterwards."""
    kubeconfig = str(live_cluster.kubeconfig(NAMESPACE))
    official = Official(kubeconfig)
    yield {
        "kubernetes": official,
        "lightkube": Lightkube(kubeconfig, official.core),
        "kr8s": Kr8s(kubeconfig, official.core),
        "kubernetes-asyncio": AsyncOfficial(kubeconfig, official.core),
    }
    selector = "suite=python-clients"
    official.core.delete_collection_namespaced_config_map(NAMESPACE, label_selector=selector)
    official.apps.delete_collection_namespaced_deployment(NAMESPACE, label_selector=selector)
    official.api.close()
    _print_table(request.config)


def _print_table(pytest_config) -> None:
    """Case x client, on the terminal even when output is captured (as `capsys.disabled`)."""
    reporter = pytest_config.pluginmanager.get_plugin("terminalreporter")
    capture = pytest_config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not RESULTS:
        return
    width = max(len(case) for case in CASES)
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(" " * width + "  " + "  ".join(f"{c:<18}" for c in CLIENTS))
        for case in CASES:
            cells = "  ".join(f"{RESULTS.get((case, c), '-'):<18}" for c in CLIENTS)
            reporter.write_line(f"{case:<{width}}  {cells}".rstrip())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("client_name", CLIENTS)
def test_client_case(drivers, client_name: str, case: str):
    driver = drivers[client_name]
    name = f"{case}-{CLIENTS.index(client_name)}"
    if case in getattr(driver, "unsupported", ()):
        RESULTS[case, client_name] = "n/a"
        pytest.skip(f"{client_name} has no {case}")
    RESULTS[case, client_name] = "FAIL"
    run = getattr(driver, case.replace("-", "_") if case[0].isalpha() else _NUMBERED[case])
    outcome = run(name)
    if case == "watch":
        assert outcome == ["ADDED", "MODIFIED", "DELETED"]
    RESULTS[case, client_name] = "pass"


_NUMBERED = {"404-not-found": "not_found", "409-conflict": "conflict"}
