"""The request-flow figure, laid out from the API server's own stage list.

Clients on the left, the API server's stages down the middle (`apiserver.flow.STAGES`, the
list the pipeline records), watchers on the right. One layout, three uses: one request's
way (a receipt), one stage picked out (a lesson step), and the latest traffic as a station
board (Grand Central). Every figure comes with a sentence that says what it shows, so the
picture is never the only way to read it. The drawing is `templates/shop/_flow.html`.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apiserver import flow

# Who sends requests, by the names the audit log gives them.
CLIENTS: tuple[tuple[str, str], ...] = (
    ("browser", "Browser"),
    ("kubectl", "kubectl"),
    ("python-client", "Python client"),
    ("scheduler", "Scheduler"),
    ("kubelet", "Kubelets"),
    ("controller", "Controllers"),
    ("other", "Others"),
)
CLIENT_KEYS = tuple(key for key, _ in CLIENTS)
# Who hears about a stored change through a watch.
WATCHERS: tuple[tuple[str, str], ...] = (
    ("scheduler", "Scheduler"),
    ("kubelet", "Kubelets"),
    ("controller", "Controllers"),
    ("live-pages", "Live pages"),
)

# The layout, in viewBox units: it scales with the page, down to a phone's width.
WIDTH = 360
TOP = 24
ROW = 48
BOX = 40
CLIENT_X, CLIENT_W = 2, 76
STAGE_X, STAGE_W = 116, 148
WATCHER_X, WATCHER_W = 281, 77
# The stages drawn down the middle: the watchers have a column of their own.
COLUMN = tuple(stage for stage in flow.STAGES if stage.key != "watchers")
HEIGHT = TOP + ROW * len(COLUMN)
STORE_ROW = flow.STORE

STATE_WORDS = {
    flow.PASSED: "passed",
    flow.REFUSED: "refused",
    flow.SKIPPED: "not asked",
    flow.UNREACHED: "not reached",
}
MARKS = {flow.PASSED: "✓", flow.REFUSED: "✗", flow.SKIPPED: "–", flow.UNREACHED: "–"}


@dataclass
class Box:
    key: str
    kind: str  # client, stage or watcher
    x: int
    y: int
    width: int
    title: str
    note: str = ""
    shop: str = ""
    state: str = ""  # passed, refused, skipped, unreached, focus, or "" (plain)
    height: int = BOX

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    state: str = ""
    width: float = 1.5


@dataclass
class Figure:
    """Everything the template draws, plus the sentence that says the same."""

    id: str
    title: str
    summary: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def watchers_heading_y(self) -> int:
        return _row_y(len(COLUMN) - len(WATCHERS)) - 4

    @property
    def stages(self) -> list[Box]:
        return [box for box in self.boxes if box.kind == "stage"]


def _row_y(row: int) -> int:
    return TOP + row * ROW


def _skeleton(figure_id: str, title: str, summary: str) -> Figure:
    """The three columns, plain, with the arrows from one stage to the next."""
    figure = Figure(figure_id, title, summary)
    for row, (key, label) in enumerate(CLIENTS):
        figure.boxes.append(
            Box(key, "client", CLIENT_X, _row_y(row) + 4, CLIENT_W, label, height=32)
        )
    for row, stage in enumerate(COLUMN):
        figure.boxes.append(
            Box(stage.key, "stage", STAGE_X, _row_y(row), STAGE_W, stage.name, shop=stage.shop)
        )
    first = len(COLUMN) - len(WATCHERS)
    for offset, (key, label) in enumerate(WATCHERS):
        figure.boxes.append(
            Box(key, "watcher", WATCHER_X, _row_y(first + offset) + 4, WATCHER_W, label, height=32)
        )
    middle = STAGE_X + STAGE_W / 2
    for row in range(len(COLUMN) - 1):
        figure.edges.append(Edge(middle, _row_y(row) + BOX, middle, _row_y(row + 1)))
    return figure


def _stage_box(figure: Figure, key: str) -> Box:
    return next(box for box in figure.stages if box.key == key)


def _client_box(figure: Figure, key: str) -> Box:
    return next(box for box in figure.boxes if box.kind == "client" and box.key == key)


def _into_stage(client: Box, stage: Box, state: str = "", width: float = 1.5) -> Edge:
    return Edge(
        client.x + client.width,
        client.y + client.height / 2,
        stage.x,
        stage.y + stage.height / 2,
        state,
        width,
    )


def _watch_edges(figure: Figure, state: str) -> None:
    store = _stage_box(figure, "store")
    for box in figure.boxes:
        if box.kind == "watcher":
            box.state = state
            figure.edges.append(
                Edge(
                    store.x + store.width,
                    store.y + store.height / 2,
                    box.x,
                    box.y + box.height / 2,
                    state,
                )
            )


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms"


def _listed(parts: list[str]) -> str:
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def for_request(
    trail: Mapping[str, Any], figure_id: str, client: str = "browser", you: str = "Your request"
) -> Figure:
    """One request's way: the gates it passed, the one that refused it, time per stage.

    `trail` is the plain data a response's trail gives (`Exchange.flow`), as kept in a
    ticket in the session.
    """
    # A ticket kept from before a change to the stages names only those still known.
    stages = {item["key"]: item for item in trail.get("stages", []) if item["key"] in flow.BY_KEY}
    status = int(trail.get("status") or 0)
    refused = str(trail.get("refused") or "")
    if refused not in flow.BY_KEY:
        refused = flow.stage_for_status(status).key if status >= 400 else ""
    figure = _skeleton(figure_id, "The way this request took through the API server", "")
    for box in figure.stages:
        item = stages.get(box.key, {})
        box.state = str(item.get("state") or flow.SKIPPED)
        words = STATE_WORDS.get(box.state, "")
        if box.state == flow.REFUSED:
            words = f"refused with {status}"
        elif box.state == flow.PASSED and item.get("ms") is not None:
            words = f"passed, {_ms(item['ms'])}"
        box.note = f"{MARKS.get(box.state, '')} {words}".strip()
    sender = _client_box(figure, client if client in CLIENT_KEYS else "other")
    sender.state = flow.REFUSED if refused else flow.PASSED
    sender.note = "sent it"
    figure.edges.append(_into_stage(sender, figure.stages[0], sender.state))
    for edge, box in zip(figure.edges, figure.stages[1:], strict=False):
        if box.state in (flow.PASSED, flow.REFUSED):
            edge.state = flow.PASSED
    watchers = str(stages.get("watchers", {}).get("state") or flow.SKIPPED)
    told = watchers == flow.PASSED
    _watch_edges(figure, watchers)
    figure.summary = _request_sentence(stages, status, refused, told, you)
    return figure


def _timed(name: str, ms: Any) -> str:
    """A stage's name with its time, when the request's trail kept one (a history's
    request, read back from the audit log, has only its outcome)."""
    return f"{name} ({_ms(ms)})" if ms is not None else name


def _request_sentence(
    stages: Mapping[str, Mapping[str, Any]], status: int, refused: str, told: bool, you: str
) -> str:
    passed = [
        _timed(flow.BY_KEY[key].name, item.get("ms"))
        for key, item in stages.items()
        if item.get("state") == flow.PASSED and flow.BY_KEY[key].gate
    ]
    went = f"{you} passed {_listed(passed)}" if passed else f"{you} passed no gate"
    if refused:
        stage = flow.BY_KEY[refused]
        text = f"{went}, and was refused by {stage.name} with {status}."
    else:
        store = stages.get("store", {})
        text = f"{went}, and was answered by {_timed(flow.BY_KEY['store'].name, store.get('ms'))}"
        text += f" with {status}."
    audit = stages.get("audit", {})
    if audit.get("state") == flow.PASSED:
        text += f" The audit log noted it{_timed('', audit.get('ms'))}."
    if told:
        text += " Its watchers (scheduler, kubelets, controllers, live pages) were told."
    return text


def for_stage(key: str, figure_id: str) -> Figure:
    """The figure with one stage picked out, for a lesson step about it."""
    stage = flow.BY_KEY[key]
    figure = _skeleton(figure_id, f"This step is about {stage.name}", "")
    for box in figure.stages:
        if box.key == key:
            box.state = "focus"
            box.note = "→ this step"
        else:
            box.note = box.shop
    if key == "watchers":
        for box in figure.boxes:
            if box.kind == "watcher":
                box.state = "focus"
    codes = _listed([str(code) for code in stage.codes]).replace(" and ", " or ")
    answers = f" When it turns a request away it answers {codes}." if codes else ""
    figure.summary = (
        f"This step is about {stage.name}, the shop's “{stage.shop.lower()}”: every request "
        f"from any client comes through request info, authentication, priority and fairness "
        f"and authorization in that order, writes through admission, then reaches "
        f"registry and storage; the audit log notes each one and watchers hear of each "
        f"stored change.{answers}"
    )
    return figure


def for_traffic(records: Iterable[Mapping[str, Any]], figure_id: str) -> Figure:
    """The station board: each recent request from its client to the stage it reached.

    Audit rows carry a status code, not a trail, so the stage comes from the code
    (`flow.stage_for_status`); a lane of many requests is drawn thicker, a refused one
    dashed, and every box says its count in words.
    """
    reached: Counter[tuple[str, str, bool]] = Counter()
    codes: dict[str, Counter[int]] = {}
    sent: Counter[str] = Counter()
    total = 0
    for record in records:
        client = record.get("client") if record.get("client") in CLIENT_KEYS else "other"
        status = int(record.get("status_code") or 0)
        stage = flow.stage_for_status(status)
        refused = status >= 400
        reached[(client, stage.key, refused)] += 1
        sent[client] += 1
        total += 1
        if refused:
            codes.setdefault(stage.key, Counter())[status] += 1
    figure = _skeleton(figure_id, "Where the latest requests got to", "")
    answered = sum(n for (_, key, refused), n in reached.items() if not refused)
    for box in figure.boxes:
        if box.kind == "client":
            box.note = f"{sent[box.key]} sent"
            box.state = flow.PASSED if sent[box.key] else ""
    for box in figure.stages:
        stopped = codes.get(box.key)
        if stopped:
            box.state = flow.REFUSED
            box.note = "✗ refused " + ", ".join(f"{n}× {code}" for code, n in stopped.most_common())
        elif box.key == "store" and answered:
            box.state = flow.PASSED
            box.note = f"✓ {answered} answered"
        else:
            box.note = box.shop
    store = _stage_box(figure, "store")
    if store.state == flow.REFUSED and answered:
        store.note = f"✓ {answered} answered, " + store.note.replace("refused ", "")
    busiest = max(reached.values(), default=1)
    for (client, key, refused), count in sorted(reached.items()):
        figure.edges.append(
            _into_stage(
                _client_box(figure, client),
                _stage_box(figure, key),
                flow.REFUSED if refused else flow.PASSED,
                1.5 + 4.5 * count / busiest,
            )
        )
    figure.summary = _traffic_sentence(total, answered, codes, sent)
    return figure


def _were(count: int) -> str:
    return f"{count} was" if count == 1 else f"{count} were"


def _traffic_sentence(
    total: int, answered: int, codes: Mapping[str, Counter[int]], sent: Counter[str]
) -> str:
    if not total:
        return "No requests yet: the board fills in as requests arrive."
    parts = [f"{_were(answered)} answered by {flow.BY_KEY['store'].name}"]
    for stage in flow.STAGES:
        stopped = codes.get(stage.key)
        if stopped:
            detail = ", ".join(f"{n} with {code}" for code, n in stopped.most_common())
            parts.append(f"{_were(sum(stopped.values()))} refused by {stage.name} ({detail})")
    names = dict(CLIENTS)
    senders = _listed([f"{names[key]} {n}" for key, n in sent.most_common()])
    return f"Of the latest {total} requests, {_listed(parts)}. Sent by: {senders}."
