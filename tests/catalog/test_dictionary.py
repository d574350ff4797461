"""The one shop ↔ Kubernetes dictionary is used everywhere, one way.

Every template, lesson, quiz, analogy text, receipt and tracking word is read for the
variants the dictionary forbids; every mapping row (panels, lessons, quizzes, the tracker's
stops, the request flow's stages) must give its shop word the Kubernetes meaning the
dictionary gives it; every mapping panel says where the analogy breaks; and the order
number is the object's uid, never its resourceVersion.
"""

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from apiserver import flow
from apiserver.models import ClusterUser
from apiserver.registry import kinds
from catalog import analogy, dictionary
from catalog.dictionary import TERMS, forbidden_in, row_problem, terms_in
from catalog.models import ResourceKind
from shop import tracker
from tests.shop.helpers import api_get

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
LESSONS = ROOT / "learning" / "content" / "lessons.yaml"
QUIZZES = ROOT / "learning" / "fixtures" / "quizzes.yaml"
# Python modules whose strings are shop text: analogy texts, receipts, tracking words.
SHOP_TEXT_MODULES = [
    ROOT / "catalog" / "analogy.py",
    ROOT / "shop" / "receipts.py",
    ROOT / "shop" / "tracking.py",
    ROOT / "shop" / "tracker.py",
    ROOT / "shop" / "forms.py",
    ROOT / "apiserver" / "flow.py",
    ROOT / "apiserver" / "registry" / "crds.py",
]


def _strings(path: Path) -> list[str]:
    """Every string constant in a module (implicitly joined literals come out whole)."""
    tree = ast.parse(path.read_text())
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _walk(value: Any):
    """Every dict inside a loaded YAML document, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _texts() -> list[tuple[str, str]]:
    """(where, text) for every piece of teaching text the dictionary governs."""
    found = [(str(path.relative_to(ROOT)), path.read_text()) for path in TEMPLATES]
    found += [(str(path.relative_to(ROOT)), path.read_text()) for path in (LESSONS, QUIZZES)]
    found += [("README.md", (ROOT / "README.md").read_text())]
    for path in SHOP_TEXT_MODULES:
        found += [(str(path.relative_to(ROOT)), text) for text in _strings(path)]
    return found


def _rows() -> list[tuple[str, str, str]]:
    """(where, shop side, Kubernetes side) of every mapping row the app shows."""
    rows = [("PAIRINGS", p.shop, p.kube) for p in analogy.PAIRINGS]
    rows += [
        (f"PANELS[{name}]", term.shop, term.kube)
        for name, terms in dictionary.PANELS.items()
        for term in terms
    ]
    rows += [("TRACKING", word, meaning) for word, meaning in dictionary.TRACKING.items()]
    rows += [
        ("tracker stops", shop, kube)
        for _, shop, kube in (tracker.ORDERED, tracker.CHECKED, tracker.STORED, tracker.SHIPPED)
    ]
    rows += [("tracker stops", tracker.OUT[1], tracker.OUT[2])]
    rows += [("flow stages", stage.shop, stage.name) for stage in flow.STAGES]
    for path in TEMPLATES:
        for shop, kube in re.findall(
            r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>', path.read_text(), re.DOTALL
        ):
            if "{{" not in shop:  # rows drawn from data are checked as data
                rows.append((str(path.relative_to(ROOT)), shop, kube))
    for path in (LESSONS, QUIZZES):
        for item in _walk(yaml.safe_load(path.read_text())):
            for row in item.get("panel") or []:
                rows.append((f"{path.name} {item.get('slug')}", row["shop"], row["kube"]))
            for pair in item.get("pairs") or []:
                rows.append((f"{path.name} {item.get('slug')}", pair["left"], pair["right"]))
    return rows


# --- the dictionary itself ------------------------------------------------------------------


def test_every_term_is_spelled_once_and_says_where_it_breaks():
    spellings = [form.lower() for term in TERMS for form in term.spellings]
    assert len(spellings) == len(set(spellings)), "one spelling names two terms"
    for term in TERMS:
        assert term.breaks.endswith(".") and len(term.breaks) < 200, term.key
        assert term.is_named_in(term.kube), f"{term.key}: its own Kubernetes side"
        for variant in term.never:
            assert not any(variant.lower() in form.lower() for form in term.spellings)


def test_the_fixed_pairs_of_the_analogy_are_in_it():
    pairs = {term.key: (term.shop, term.kube) for term in dictionary.ANALOGY}
    assert list(pairs) == ["stuff", "warehouse", "website", "browser", "sellers", "tracking"]
    assert "API groups" in pairs["warehouse"][1]
    assert "API server" in pairs["website"][1]
    assert "kubectl" in pairs["browser"][1]
    assert "CustomResourceDefinitions" in pairs["sellers"][1]
    assert "Watching" in pairs["tracking"][1]
    assert [(p.shop, p.kube, p.breaks) for p in analogy.PAIRINGS] == [
        (t.shop, t.kube, t.breaks) for t in dictionary.ANALOGY
    ]


def test_the_order_number_is_the_uid_and_the_records_version_the_resource_version():
    by_key = dictionary.BY_KEY
    assert by_key["order-number"].kube == "metadata.uid"
    assert by_key["record-version"].kube == "metadata.resourceVersion"
    assert "namespace" in by_key["address"].kube.lower()
    assert "user" in by_key["account"].kube.lower()
    assert by_key["account"].shop != by_key["address"].shop


def test_the_row_check_catches_a_shop_word_with_a_second_meaning():
    assert row_problem("The warehouse picking a packing station", "The scheduler choosing a node")
    assert row_problem("Your account", "Your namespace")
    assert not row_problem("The warehouse catalog", "The API, its groups and versions")
    assert not row_problem("A bot buying every ticket", "A client flooding the API server")
    assert [t.key for t in terms_in("Shoppers at the website, tracking parcels")] == [
        "website",
        "tracking",
    ]
    assert [variant for variant, _ in forbidden_in("written into the books")] == ["the books"]
    assert forbidden_in("In the order book, not the stockroom")[0][1].key == "order-book"


# --- used everywhere, one way ---------------------------------------------------------------


def test_no_teaching_text_uses_a_forbidden_variant():
    found = [
        f"{where}: {variant!r} (say {term.shop!r})"
        for where, text in _texts()
        for variant, term in forbidden_in(text)
    ]
    assert found == []


def test_every_mapping_row_gives_its_shop_word_the_dictionary_meaning():
    rows = _rows()
    assert len(rows) > 60  # the panels, lessons, quizzes, tracker and flow are all read
    found = [
        f"{where}: {problem}" for where, shop, kube in rows if (problem := row_problem(shop, kube))
    ]
    assert found == []


def test_every_row_of_a_template_mapping_table_uses_a_dictionary_word():
    """Lessons may add a scene of their own; the pages' panels speak only the dictionary."""
    rows = [row for row in _rows() if row[0].startswith("templates/")]
    assert rows
    assert [f"{where}: {shop!r}" for where, shop, _ in rows if not terms_in(shop)] == []


def test_every_tracking_word_is_in_the_dictionary():
    """The words of Status(...) and Step(...) in the tracking modules, and the tracker's stops."""
    words: set[str] = set()
    for path in (ROOT / "shop" / "tracking.py", ROOT / "shop" / "tracker.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Status", "Step")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                words.add(node.args[0].value)
    words |= set(tracker.STEP_STOPS) | {stop[1] for stop in (tracker.ORDERED, tracker.STORED)}
    words |= {tracker.CHECKED[1], tracker.SHIPPED[1], tracker.OUT[1], tracker.CANCELLED}
    assert len(words) > 15
    assert sorted(words - set(dictionary.TRACKING)) == []


def _order_number_as_resource_version(text: str) -> bool:
    """Whether one sentence puts "order number" and resourceVersion side by side, unless it
    says they differ ("...; resourceVersion changes", "which is why it is no order number")."""
    same_sentence = r"(?:(?![.?!;]\s).){0,80}?"
    near = re.compile(
        rf"order number{same_sentence}resource_?version"
        rf"|resource_?version{same_sentence}order number",
        re.IGNORECASE | re.DOTALL,
    )
    contrast = re.compile(r"\b(no|not|never|instead|rather than)\b", re.IGNORECASE)
    return any(not contrast.search(match.group()) for match in near.finditer(text))


def test_order_number_is_never_shown_beside_a_resource_version():
    assert _order_number_as_resource_version(
        '<th scope="row">Order number</th><td><code>metadata.resourceVersion'
    )
    assert _order_number_as_resource_version("Order number\n  (resourceVersion) <code>")
    assert not _order_number_as_resource_version("a new resourceVersion: it is no order number")
    found = [where for where, text in _texts() if _order_number_as_resource_version(text)]
    assert found == []


# --- every mapping panel says where the analogy breaks --------------------------------------

BREAKS = re.compile(r"Where (the analogy|it) breaks|mapping_panel")


def _panel_bodies() -> list[tuple[str, str]]:
    """(template, source) of each page's panel block, with its includes inlined once."""
    bodies = []
    for path in TEMPLATES:
        source = path.read_text()
        for body in re.findall(r"{% block panel %}(.*?){% endblock %}", source, re.DOTALL):
            for name in re.findall(r'{% include "([^"]+)"', body):
                body += (ROOT / "templates" / name).read_text()
            bodies.append((str(path.relative_to(ROOT)), body))
    return bodies


def test_every_mapping_panel_states_where_the_analogy_breaks():
    bodies = [(where, body) for where, body in _panel_bodies() if body.strip()]
    assert len(bodies) >= 8
    assert [where for where, body in bodies if not BREAKS.search(body)] == []
    sections = [
        (path.name, section)
        for path in TEMPLATES
        for section in re.findall(
            r'<section class="mapping".*?</section>', path.read_text(), re.DOTALL
        )
    ]
    assert len(sections) >= 3
    assert [where for where, section in sections if not BREAKS.search(section)] == []


def test_every_lesson_with_a_panel_says_where_it_breaks():
    lessons = [item for item in _walk(yaml.safe_load(LESSONS.read_text())) if item.get("panel")]
    assert lessons
    assert [item["slug"] for item in lessons if not str(item.get("breaks", "")).strip()] == []


@pytest.mark.parametrize(
    ("url", "panels"), [("/", ("site", "storefront")), ("/learner/", ("site", "checkout"))]
)
def test_the_drawn_panels_show_each_row_and_where_it_breaks(shopper, catalog, url, panels):
    page = shopper.get(url).content.decode()

    for name in panels:
        section = re.search(
            rf'<section class="mapping" aria-labelledby="{name}-mapping-heading">(.*?)</section>',
            page,
            re.DOTALL,
        )
        assert section is not None, name
        drawn = section.group(1)
        assert "<summary>Where the analogy breaks</summary>" in drawn
        for term in dictionary.PANELS[name]:
            assert f'<th scope="row">{escape(term.shop)}</th><td>{escape(term.kube)}</td>' in drawn
            assert f"<dt>{escape(term.shop)}</dt><dd>{escape(term.breaks)}</dd>" in drawn


# --- the order number on the receipt and the list of orders ---------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: main
      image: nginx:1.27
"""


@pytest.fixture
def alice(catalog, settings, tmp_path_factory) -> Client:
    """Alice's browser, signed in through the learner page, with a Pod ordered."""
    kinds.invalidate()
    settings.STATE_DIR = tmp_path_factory.getbasetemp() / "dictionary-state"
    settings.WAREHOUSE_API_HOSTS = []
    settings.WAREHOUSE_API_URL = "https://127.0.0.1:6443"
    client = Client()
    assert client.post("/learner/", {"name": "alice"}).status_code == 302
    assert client.post("/order/core/v1/pods/", {"manifest": POD}).status_code == 302
    yield client
    kinds.invalidate()


def _stored_pod() -> dict[str, Any]:
    alice = ClusterUser.objects.get(name="alice")
    status, pod = api_get(alice, "/api/v1/namespaces/alice/pods/web")
    assert status == 200
    return pod["metadata"]


def test_the_receipt_and_the_orders_list_show_the_uid_as_the_order_number(alice):
    meta = _stored_pod()
    uid, version = meta["uid"], meta["resourceVersion"]
    assert uid != version

    receipt = alice.get("/orders/alice/core/v1/pods/web/").content.decode()
    lede = re.search(r"Order number(.*?)</p>", receipt, re.DOTALL)
    assert lede is not None
    assert f"<code>{uid}</code>" in lede.group(1)
    assert f"<code>{version}</code>" not in lede.group(1)
    assert "resourceVersion" not in lede.group(1)

    orders = alice.get("/orders/").content.decode()
    header = re.search(r"<thead>(.*?)</thead>", orders, re.DOTALL).group(1)
    columns = re.findall(r'<th scope="col">(.*?)</th>', header)
    row = re.search(r'<tr>\s*<th scope="row"><a [^>]*>web</a></th>(.*?)</tr>', orders, re.DOTALL)
    cells = [""] + re.findall(r"<td>(.*?)</td>", row.group(1), re.DOTALL)
    shown = dict(zip(columns, cells, strict=False))
    number = next(text for column, text in shown.items() if column.startswith("Order number"))
    assert number == f"<code>{uid}</code>"


def test_the_checkout_story_names_the_order_by_its_uid(alice):
    uid = _stored_pod()["uid"]
    story = alice.get("/orders/alice/core/v1/pods/web/").content.decode()

    assert f"stored under order number {uid}." in story


def test_a_product_without_its_own_breaks_still_says_where_the_analogy_breaks(shopper, catalog):
    kind = ResourceKind.objects.filter(kind="ConfigMap").first()
    kind.analogy_breaks = ""
    kind.save()

    page = shopper.get(kind.get_absolute_url()).content.decode()

    panel = page[page.index('id="amazon-heading"') :]
    assert "<h4>Where it breaks</h4>" in panel
    assert escape(dictionary.BY_KEY["product"].breaks) in panel
