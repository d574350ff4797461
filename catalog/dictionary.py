"""The one shop ↔ Kubernetes dictionary: every shop word the pages, panels and lessons use.

Each `Term` is spelled one way, names the Kubernetes idea it stands for, and says where
the comparison stops being true. `never` lists the variants and synonyms that made one idea
wear several shop names (or one shop name cover several ideas), so tests can find them in
any text. The mapping panels are drawn from `PANELS`, the analogy map from `ANALOGY`, and
the tracking page's words are listed in `TRACKING`.
"""

import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Term:
    """One shop word and the Kubernetes idea it stands for."""

    key: str
    shop: str  # the one spelling, as a panel's row heading shows it
    kube: str  # the Kubernetes side, as a panel shows it
    breaks: str  # where the analogy stops holding
    means: tuple[str, ...]  # patterns, one of which a row using this word names in Kubernetes
    also: tuple[str, ...] = ()  # shorter forms of the same word (plurals, the bare noun)
    never: tuple[str, ...] = ()  # variants and synonyms that must not be used

    @cached_property
    def spellings(self) -> tuple[str, ...]:
        """Every accepted form, longest first, so the most specific one is matched."""
        return tuple(sorted({self.shop, *self.also}, key=len, reverse=True))

    def is_named_in(self, kube_text: str) -> bool:
        """Whether a Kubernetes description names what this shop word stands for."""
        return any(re.search(pattern, kube_text, re.IGNORECASE) for pattern in self.means)


TERMS: tuple[Term, ...] = (
    # The analogy itself: the six pairs every page shows.
    Term(
        "stuff",
        "Stuff for sale",
        "Resources and the objects made from them",
        "Nothing is handed over and forgotten: an object is a wish that stays on record, and "
        "for most kinds a controller keeps working to make it true for as long as it exists.",
        (r"\bresources?\b", r"\bobjects?\b"),
    ),
    Term(
        "warehouse",
        "The warehouse",
        "The API: kinds, sorted into API groups and versions",
        "One kind can be served at several versions at once, and the same stored object reads "
        "differently through each; a shop item has a single label.",
        (r"\bAPI\b(?! server)", r"\bkinds?\b", r"\bdiscovery\b"),
        also=("warehouse catalog", "warehouse"),
        never=("warehouse's books", "in the warehouse", "warehouse staff"),
    ),
    Term(
        "website",
        "The Amazon website",
        "The API server, the one front door",
        "The API server ships nothing itself: it checks each request and records it, and "
        "the scheduler, kubelets and controllers do the work.",
        (r"\bAPI servers?\b", r"kube-apiserver"),
        also=("website", "front door"),
    ),
    Term(
        "browser",
        "Your browser",
        "kubectl, or any other client",
        "The shop's own staff come in through the same door: the scheduler, kubelets and "
        "controllers are clients too, each with its own identity and permissions.",
        (r"\bkubectl\b", r"\bclients?\b"),
        also=("browser", "browsers"),
    ),
    Term(
        "sellers",
        "Third-party sellers",
        "CustomResourceDefinitions",
        "A CustomResourceDefinition lists a new kind but brings nobody to deliver it: until "
        "someone runs a controller for it, its objects are only stored.",
        (r"CustomResourceDefinition", r"\bCRDs?\b", r"\bcustom\b", r"\boperator"),
        also=("third-party seller", "seller", "sellers"),
    ),
    Term(
        "tracking",
        "Tracking your order",
        "Watching an object",
        "A watch sends changes, not the whole story: a client that resumes from a "
        "resourceVersion already compacted away gets 410 Gone and must list everything again.",
        (r"\bwatch", r"\bstatus\b"),
        also=("tracking your parcel", "tracking"),
    ),
    # Where orders are kept, and how one is named.
    Term(
        "order-book",
        "The order book",
        "The cluster store (etcd, in a real cluster)",
        "Only the API server opens it: no client, controller or scheduler reads etcd itself, "
        "and it keeps an object's older versions only until they are compacted away.",
        (r"\bstor(e|ed|age)\b", r"\betcd\b", r"\bpersist"),
        also=("order book",),
        never=("stockroom", "the books"),
    ),
    Term(
        "order-history",
        "Order history",
        "An object's revisions, read through its history subresource",
        "Kubernetes itself keeps no history of an object: this one is the warehouse's own, "
        "and like the order book it forgets revisions once they are compacted away, where a "
        "shop keeps every order's history.",
        (r"\brevisions?\b", r"\bhistory\b"),
    ),
    Term(
        "order-number",
        "Order number",
        "metadata.uid",
        "A uid is never given out twice: delete an order and place it again under the same "
        "name, and the new object has a new uid.",
        (r"\buid\b",),
        never=("receipt reference",),
    ),
    Term(
        "record-version",
        "The record's version",
        "metadata.resourceVersion",
        "It counts no edits of its own: every write to the cluster store moves one shared "
        "counter, so it jumps, and clients may only compare it for equality.",
        (r"resourceVersion",),
        also=("record's version",),
    ),
    # Who you are, and where your orders go.
    Term(
        "account",
        "Your account",
        "A user: the identity your bearer token proves",
        "Kubernetes stores no user accounts: a user is only a name a token or certificate "
        "vouches for. ServiceAccounts, the identities of programs, are stored objects.",
        (r"\busers?\b", r"\bidentit", r"ServiceAccount", r"\btoken\b", r"authenticat"),
        also=("account name", "account", "learner account"),
        never=(
            "shopping account",
            "customer's account",
            "one account",
            "all accounts",
            "separate accounts",
            "shared account",
            "addresses on your account",
        ),
    ),
    Term(
        "address",
        "Your delivery address",
        "Your namespace",
        "Nothing travels to a namespace: it is a scope for names that RBAC bindings and quotas "
        "attach to, and the Pods of every namespace share the same nodes and network.",
        (r"\bnamespaces?\b",),
        also=("delivery address", "delivery addresses"),
        never=("aisle", "address problem", "address assigned"),
    ),
    # The gates an order passes.
    Term(
        "id-check",
        "The ID check",
        "Authentication: who sent the request, proved by a token or certificate",
        "The ID is checked on every request, not once per visit: the API server keeps no "
        "session, so every request carries its token again.",
        (r"authenticat",),
        also=("ID check", "signed in"),
    ),
    Term(
        "permission",
        "Permission",
        "Authorization: RBAC rules bound to users, groups and ServiceAccounts",
        "Permissions are only ever granted: RBAC has no rule that forbids, and a request "
        "that no binding allows is refused with 403.",
        (r"authori[sz]", r"\bRBAC\b", r"\bRole", r"can-i"),
        also=("permissions", "allowed"),
    ),
    Term(
        "checkout",
        "The checkout",
        "Admission: mutating, then validating admission, quotas included",
        "A checkout happens once; admission runs on every write, updates and deletes "
        "included, and may change the order as well as accept or refuse it.",
        (r"admi(ssion|tted)", r"validat", r"\bquotas?\b", r"\bmutat", r"\bdefaults?\b"),
        also=("checkout", "order form checked"),
        never=("payment checked",),
    ),
    Term(
        "queue",
        "The queue at the door",
        "API Priority and Fairness",
        "The queue caps how many requests each priority level has in progress at once, not how "
        "many one shopper sends; a 429 means the queue was full or the wait ran out.",
        (r"\bpriority\b", r"\bfairness\b", r"\b429\b", r"\bAPF\b"),
    ),
    Term(
        "till-roll",
        "The till roll",
        "The audit log",
        "A real cluster writes its audit log to a file or a webhook for administrators; here "
        "it is also served as the auditevents resource, so learners can watch it.",
        (r"\baudit",),
    ),
    # What is ordered, how, and what comes back.
    Term(
        "department",
        "Department",
        "An API group",
        "The core department has no group name at all: its kinds say apiVersion: v1.",
        (r"\bgroups?\b",),
        also=("departments",),
    ),
    Term(
        "product",
        "Product",
        "A resource kind",
        "A product page lists what may be ordered, not what is in stock: a kind is served "
        "whether or not any object of it exists.",
        (r"\bkinds?\b", r"\bresources?\b"),
        also=("products",),
    ),
    Term(
        "edition",
        "Edition",
        "An API version such as v1 or v1beta1",
        "Old and new editions are the same goods: one stored object can be read and written "
        "through every version of its kind that the API serves.",
        (r"\bversions?\b", r"\bv1"),
        also=("editions", "new edition"),
    ),
    Term(
        "page-address",
        "A product page's address",
        "A REST path, such as /apis/apps/v1/namespaces/NAMESPACE/deployments",
        "The path names the resource (the kind's plural) and, for a namespaced kind, the "
        "namespace; one object has a different path through each version it is served at.",
        (r"\bpaths?\b", r"/apis?/"),
        also=("product page's web address", "page's address", "web address"),
    ),
    Term(
        "store-directory",
        "The store directory",
        "Discovery: /api and /apis",
        "A shop hides its back rooms; the API publishes every kind it serves, with its verbs, "
        "so clients such as kubectl learn the catalog at run time.",
        (r"\bdiscovery\b", r"/apis?\b"),
    ),
    Term(
        "order-form",
        "The order form",
        "A manifest: the object written in YAML or JSON",
        "The form is the whole wish: applied again with a change (kubectl apply) it updates "
        "the object, while creating it a second time is refused with 409 AlreadyExists.",
        (r"\bmanifest", r"\bYAML\b", r"\bJSON\b"),
    ),
    Term(
        "placing",
        "Placing an order",
        "A create: POST to the kind's collection",
        "Placing an order only records it; whatever should happen next is up to the "
        "controllers, scheduler and kubelets that watch for it.",
        (r"\bPOST\b", r"\bcreat"),
    ),
    Term(
        "looking-up",
        "Looking up an order",
        "A get: GET the object",
        "Looking never changes anything, and what you see is the stored object, status "
        "included, as it was last written.",
        (r"\bGET\b", r"\bget\b", r"\bread"),
    ),
    Term(
        "cancelling",
        "Cancelling an order",
        "A delete: DELETE the object",
        "Cancelling may take a while: the object stays, Terminating, until its finalizers are "
        "removed and, for a Pod, its grace period is over.",
        (r"\bDELETE\b", r"\bdelet", r"Terminating"),
        also=("cancelling", "cancelled"),
    ),
    Term(
        "receipt",
        "The receipt",
        "The API server's response: a status code and the object as stored",
        "A receipt comes for every request, refused ones too: a refusal is a Status object "
        "with a code and a reason, and no object is written.",
        (r"\bresponse\b", r"\bstatus code\b", r"\bStatus\b"),
    ),
    # Who does the work behind the front door.
    Term(
        "depot",
        "Depot",
        "A node",
        "A depot takes whatever fits; a node also caps how many Pods it runs (110 by "
        "default), and its kubelet evicts Pods when memory or disk runs short.",
        (r"\bnodes?\b",),
        also=("depots",),
        never=("fulfilment centre", "fulfillment center", "packing station", "lorry"),
    ),
    Term(
        "dispatcher",
        "The dispatcher",
        "The scheduler",
        "The dispatcher only writes a depot on the order (a Binding sets spec.nodeName): it "
        "carries nothing, and never moves a Pod once placed.",
        (r"\bschedul",),
        also=("dispatcher",),
    ),
    Term(
        "courier",
        "The courier",
        "The kubelet on each node",
        "A courier never leaves its depot: a kubelet runs only the Pods bound to its own node, "
        "restarts their crashed containers itself, and reports through the API server.",
        (r"\bkubelets?\b",),
        also=("courier", "couriers"),
    ),
    Term(
        "staff",
        "The restocking staff",
        "Controllers",
        "Their work is never done: a controller compares what exists with what was asked "
        "for, again and again, and acts on the difference.",
        (r"\bcontrollers?\b",),
        also=("restocking staff", "staff restocking shelves", "restocking"),
    ),
    Term(
        "tracking-notes",
        "Tracking notes",
        "Events",
        "Notes are best-effort: they are dropped after about an hour, repeats are folded into "
        "one with a count, and a missing note proves nothing.",
        (r"\bEvents?\b",),
        also=("tracking note",),
    ),
    Term(
        "counter",
        "Counter",
        "A Service: one stable address for a changing set of Pods",
        "Nobody stands behind it: a Service runs no code, only forwarding rules that send "
        "each caller to one of the Ready Pods its selector matches.",
        (r"\bServices?\b", r"\bcluster IP\b", r"\bEndpoints?\b"),
        also=("counters",),
        never=("reception desk",),
    ),
    Term(
        "delivery",
        "Delivery",
        "The Pod running: scheduled, started by the kubelet, Running and Ready",
        "A delivered parcel is done with; a Running Pod is looked after: the kubelet restarts "
        "its crashed containers, and the controller that owns it, if any, replaces it if lost.",
        (r"\bRunning\b", r"\bReady\b", r"\bPods?\b", r"\bkubelet", r"\bcontainers?\b"),
        also=("delivered",),
    ),
)

BY_KEY: dict[str, Term] = {term.key: term for term in TERMS}

# The analogy as a whole, in the order the map draws it.
ANALOGY: tuple[Term, ...] = tuple(
    BY_KEY[key] for key in ("stuff", "warehouse", "website", "browser", "sellers", "tracking")
)

# The rows of each mapping panel.
PANELS: dict[str, tuple[Term, ...]] = {
    "site": (*ANALOGY, BY_KEY["order-book"]),
    "checkout": tuple(
        BY_KEY[key]
        for key in (
            "account",
            "id-check",
            "address",
            "permission",
            "order-form",
            "checkout",
            "placing",
            "order-book",
            "order-number",
            "record-version",
            "looking-up",
            "cancelling",
        )
    ),
    "history": tuple(
        BY_KEY[key]
        for key in ("order-history", "order-book", "record-version", "order-number", "till-roll")
    ),
    "storefront": tuple(
        BY_KEY[key] for key in ("warehouse", "department", "product", "store-directory")
    ),
}

# The tracking page's words: each stop and step a parcel can be at, and what it is.
TRACKING: dict[str, str] = {
    "Ordered": "Request sent: a POST to the kind's collection",
    "Order placed": "POST accepted: 201 Created",
    "Checked": "Authenticated, authorized and admitted",
    "Checks passed": "Authenticated, authorized and admitted",
    "In the order book": "Stored in the cluster store",
    "Packed": "Its controller made the ReplicaSet or the Pods",
    "Counter number assigned": "The Service got its cluster IP",
    "Subscribed": "A CronJob waiting for its next scheduled time",
    "Subscription paused": "A suspended CronJob",
    "Shipped": "Scheduled: spec.nodeName bound to a node",
    "Delayed": "Pending and unschedulable, or a rollout past its deadline",
    "No depot qualifies": "No node matches the DaemonSet",
    "Out for delivery": "The node's kubelet pulls the image and creates the containers",
    "Supplier problem": "The image cannot be pulled",
    "Returned damaged": "A container keeps crashing and the kubelet restarts it",
    "Returned": "Failed",
    "Delivered": "Running and Ready, complete, or available",
    "Waiting for stock": "A Service with no ready endpoints",
    "Next order": "The next Job a CronJob will create",
    "Cancelled": "Terminating: deletionTimestamp set",
    "Cancelled and gone": "Deleted: the API server answers 404 NotFound",
}


def _pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])", re.IGNORECASE)


def terms_in(shop_text: str) -> list[Term]:
    """The dictionary's words a piece of shop text uses, in the order they appear, each
    matched at its longest form."""
    found: list[tuple[int, Term]] = []
    spans: list[tuple[int, int]] = []
    forms = sorted(
        ((form, term) for term in TERMS for form in term.spellings),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    for form, term in forms:
        for match in _pattern(form).finditer(shop_text):
            if any(start < match.end() and match.start() < end for start, end in spans):
                continue
            spans.append(match.span())
            found.append((match.start(), term))
    ordered: list[Term] = []
    for _, term in sorted(found, key=lambda pair: pair[0]):
        if term not in ordered:
            ordered.append(term)
    return ordered


def forbidden_in(text: str) -> list[tuple[str, Term]]:
    """Each forbidden variant a text uses, with the term it should have been."""
    return [
        (variant, term)
        for term in TERMS
        for variant in term.never
        if _pattern(variant).search(text)
    ]


def row_problem(shop: str, kube: str) -> str:
    """Why a mapping row's two sides disagree with the dictionary ("" when they agree).

    A row may mention several shop words, but at least one of them must stand for what its
    Kubernetes side names: otherwise the row gives a shop word a second meaning.
    """
    terms = terms_in(shop)
    if not terms or any(term.is_named_in(kube) for term in terms):
        return ""
    names = ", ".join(f"{t.shop!r} ({t.kube})" for t in terms)
    return f"{shop!r} ↔ {kube!r}: the shop side uses {names}"
