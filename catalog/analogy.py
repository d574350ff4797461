"""The Amazon side of the catalog, written in our own words.

Each API group is a department; each kind is a product with a line on what sort of
stuff it is, where the shop analogy holds, and where it breaks. `PAIRINGS` is the analogy
as a whole, for the map drawn on the store front and in the first lesson.
"""

from dataclasses import dataclass

from catalog import dictionary

DEPARTMENTS: dict[str, tuple[str, str]] = {
    "": (
        "Core essentials",
        "The original department: Pods, Services, config, storage claims and "
        "ServiceAccounts. Its products carry the plain apiVersion v1 with no group name, "
        "because it predates API groups.",
    ),
    "admissionregistration.k8s.io": (
        "Checkout rules & inspections",
        "Rules that check, and sometimes alter, each order at checkout before it is written "
        "into the order book, run either in-house or by outside inspectors you call in.",
    ),
    "apiextensions.k8s.io": (
        "Marketplace for third-party sellers",
        "Where sellers list brand-new kinds of product. Add a CustomResourceDefinition and "
        "the front door starts taking orders for that kind.",
    ),
    "apiregistration.k8s.io": (
        "Partner concessions",
        "Arrangements that hand whole sections of the catalog to other servers behind the "
        "same front door, so extra APIs look built in.",
    ),
    "apps": (
        "Workloads & fulfilment",
        "Everything that keeps your apps stocked and running: subscriptions that hold N "
        "copies, numbered sets with their own storage, and one-per-node rollouts.",
    ),
    "authentication.k8s.io": (
        "ID check desk",
        "Questions about identity: is this token genuine, and who am I to the front door? "
        "Answers come back at once and nothing is kept.",
    ),
    "authorization.k8s.io": (
        "Permissions desk",
        "Ask whether someone may do something before they try it. Every item here is a "
        "question, answered on the spot and never stored.",
    ),
    "autoscaling": (
        "Auto-restock",
        "Rules that grow or shrink a workload's stock as demand rises and falls.",
    ),
    "batch": (
        "Errands & scheduled jobs",
        "Work that runs to completion instead of forever: one-off tasks, and tasks booked on "
        "a timetable.",
    ),
    "certificates.k8s.io": (
        "Certificates & ID badges",
        "Apply for signed certificates and share the authorities everyone should trust, so "
        "programs can prove who they are.",
    ),
    "coordination.k8s.io": (
        "Reservations & locks",
        "Small 'held by' records that components keep renewing to show they are alive or in "
        "charge.",
    ),
    "discovery.k8s.io": (
        "Address directory",
        "The up-to-date lists of which Pod addresses stand behind each Service.",
    ),
    "events.k8s.io": (
        "Order tracking notes",
        "The newer home of event records: tracking notes on what happened to your orders and why.",
    ),
    "flowcontrol.apiserver.k8s.io": (
        "Front-door queue management",
        "Rules for the queues at the front door itself, so one busy caller cannot swamp the "
        "API server for everybody else.",
    ),
    "networking.k8s.io": (
        "Networking & routes",
        "Signposts, door rules and address blocks that decide how traffic finds its way to "
        "your Pods.",
    ),
    "node.k8s.io": (
        "Runtime options",
        "Choices of container engine setup that a Pod can ask to run under.",
    ),
    "policy": (
        "Disruption policy",
        "Promises about how many of your Pods may be taken down at once during planned "
        "maintenance.",
    ),
    "rbac.authorization.k8s.io": (
        "Store policies & staff permissions",
        "Role-based access control: who may do what, and where. These are house rules, not "
        "goods on a shelf.",
    ),
    "resource.k8s.io": (
        "Specialty hardware",
        "Dynamic resource allocation: GPUs and other devices listed by their drivers, ordered "
        "through claims and handed to the Pods that need them.",
    ),
    "scheduling.k8s.io": (
        "Priority shipping",
        "Tiers that decide which Pods get placed first, and which may bump others, when space "
        "is tight.",
    ),
    "storage.k8s.io": (
        "Storage & shelving",
        "Storage tiers, driver records and the paperwork that gets volumes plugged into the "
        "right machines.",
    ),
    "storagemigration.k8s.io": (
        "Back-room maintenance",
        "Jobs that quietly rewrite stored records into the current format.",
    ),
}

PRODUCTS: dict[str, tuple[str, str, str]] = {
    "/Binding": (
        "The dispatcher's slip telling the courier which Node a Pod goes to",
        "The scheduler picks a Node for each waiting Pod and posts a Binding that says "
        "'deliver this one there'; the kubelet on that Node then starts it.",
        "You cannot list or fetch Bindings: posting one only fills in the Pod's "
        "spec.nodeName, and nothing else is kept. It is an instruction, not a product, and a "
        "Pod can be bound only once.",
    ),
    "/ComponentStatus": (
        "An old health board for the control plane's own machinery",
        "Like a store status page, it reported whether the scheduler, controller manager and "
        "etcd answered a health check.",
        "It has been deprecated since v1.19 and nothing is stored: the checks run when you "
        "ask, and they can mislead on clusters laid out differently. Use the API server's "
        "/livez and /readyz endpoints instead.",
    ),
    "/ConfigMap": (
        "A labelled box of settings: plain key/value text or files for your apps",
        "You stock it once and any number of Pods in the same namespace can read it as "
        "environment variables or mounted files, like an instruction leaflet packed with the "
        "goods.",
        "It is meant for non-secret data and is capped at 1 MiB. Pods that read it as "
        "environment variables only see changes after a restart; mounted files catch up after "
        "a short delay.",
    ),
    "/Endpoints": (
        "The older single list of Pod addresses standing behind a Service",
        "Think of the pick list behind a counter: the Service is the counter, and this record "
        "says which Pods are serving it right now.",
        "A controller keeps it in step with the Service's selector, so you rarely write it. "
        "It has been deprecated since v1.33 in favour of EndpointSlice, because one huge "
        "object per Service does not scale.",
    ),
    "/Event": (
        "A tracking note about something that happened to an object",
        "Events are the 'out for delivery' and 'delivery failed' lines of order tracking: "
        "kubectl describe shows them so you can see why a Pod is stuck.",
        "They are best-effort and short-lived: the API server drops them after about an hour "
        "by default, repeats are folded into a count, and you are not promised every one. Do "
        "not build logic on them.",
    ),
    "/LimitRange": (
        "A house rule on item sizes: default, minimum and maximum resources",
        "Like a shop that fills in a standard size when you forget to pick one and refuses "
        "oversize orders, it sets default CPU and memory for containers in its namespace and "
        "rejects values out of bounds.",
        "It is a policy, not goods, and it only acts when objects are created or updated; "
        "Pods that already exist are left alone when you edit it.",
    ),
    "/Namespace": (
        "A delivery address of your own, in a cluster everyone shares",
        "Each namespace keeps its own list of orders, names only need to be unique inside it, "
        "and quotas and permissions are usually set per namespace, much as a shop "
        "keeps the orders for each address apart.",
        "It is a naming and policy boundary, not a separate building: all namespaces share "
        "the same Nodes, network and API server, and Pods can talk across them unless a "
        "NetworkPolicy says no. Deleting a namespace deletes everything in it.",
    ),
    "/Node": (
        "A machine where Pods actually run: a depot in the fleet",
        "Orders are delivered to Nodes, each with a set capacity of CPU, memory and Pods, and "
        "the scheduler picks one with room to spare.",
        "You do not buy a Node from the catalog: the kubelet on a real or virtual machine "
        "registers it and reports its health. Deleting the Node object does not switch the "
        "machine off.",
    ),
    "/PersistentVolume": (
        "A real piece of storage put on the shelf for the cluster",
        "It is stock on the shelf: a disk, network share or cloud volume with a size and "
        "access modes, waiting for a claim to pick it.",
        "Most are made on demand by a StorageClass rather than stocked ahead, and the object "
        "only describes storage that lives elsewhere. When its claim goes, the reclaim policy "
        "decides whether the data is kept or deleted; it is not simply returned to stock.",
    ),
    "/PersistentVolumeClaim": (
        "An order for storage: 'I need 10 GiB that one node can write to'",
        "It really is an order: you state size and access mode, the cluster matches it to a "
        "PersistentVolume or provisions a new one, and Pods then use the claim by name.",
        "A claim binds to exactly one volume and holds it exclusively, and the claim lives in "
        "a namespace while the volume does not. Deleting the claim can delete the data too, "
        "depending on the volume's reclaim policy.",
    ),
    "/Pod": (
        "The actual item: one or more containers running together on one node",
        "It is what everything else ends up shipping: a Pod is scheduled, delivered to a Node "
        "and started, and watching its status until it is Running is tracking your order.",
        "It is not a parcel you keep forever. Pods are disposable: if one dies or its Node "
        "disappears, it is not repaired but replaced by a new Pod with a new name and IP, "
        "usually by a controller such as a Deployment.",
    ),
    "/PodTemplate": (
        "A stored blueprint for Pods that nobody has ordered yet",
        "Like a saved product configuration, it describes a Pod (containers, labels, volumes) "
        "that could be stamped out later.",
        "Hardly anything uses the standalone kind: Deployments, Jobs and the rest carry their "
        "own template inline, and creating a PodTemplate starts nothing.",
    ),
    "/ReplicationController": (
        "The original keep-N-in-stock rule, now superseded",
        "It keeps a fixed number of identical Pods running and replaces any that vanish, like "
        "a shelf always restocked to the same count.",
        "It is the legacy forerunner of ReplicaSet, with only simple equality selectors and "
        "no built-in rollouts; new work should use a Deployment instead.",
    ),
    "/ResourceQuota": (
        "A spending limit for one delivery address",
        "It caps what one namespace may use in total: CPU, memory, storage, and counts of "
        "objects such as Pods or Services, like a budget for everything sent to one address.",
        "It is a rule, not goods, and it is checked only when objects are created or updated: "
        "it refuses new orders over budget but evicts nothing already running if you lower "
        "it.",
    ),
    "/Secret": (
        "A small box for passwords, tokens and keys",
        "Pods can receive it as files or environment variables, and access to it can be "
        "granted separately from ordinary config, like a drawer kept apart from the open shelves.",
        "The drawer is not locked by default: values are only base64-encoded, which anyone "
        "can decode, and are kept unencrypted in etcd unless encryption at rest is turned on. "
        "Anyone who may create Pods in the namespace can usually read it by mounting it.",
    ),
    "/Service": (
        "Not a product at all: a stable counter and address for a group of Pods",
        "Shoppers go to a counter with a fixed name instead of chasing individual staff: a "
        "Service gives the Pods matching its label selector one steady virtual IP and DNS "
        "name, and spreads traffic across them.",
        "Nothing is sold or delivered; it is a directory entry plus forwarding rules set up "
        "by kube-proxy or the network plugin. The Pods behind it come and go, and the Service "
        "itself runs no code.",
    ),
    "/ServiceAccount": (
        "A staff badge for programs rather than people",
        "Each Pod runs as a ServiceAccount, and the API server uses that identity to decide "
        "what the Pod's code may do, like an employee badge shown at the front door.",
        "It is an identity, not a permission: it can do nothing until RBAC grants it rights. "
        "Since v1.24 its tokens are short-lived and issued on request rather than kept in "
        "Secrets by default.",
    ),
    "admissionregistration.k8s.io/MutatingAdmissionPolicy": (
        "A checkout rule, written in CEL, that edits orders on the way in",
        "Like a till that adds a missing gift receipt to every order, it changes matching "
        "objects, for example setting labels or defaults, before they are saved, and it runs "
        "inside the API server itself.",
        "It does nothing until a MutatingAdmissionPolicyBinding puts it into effect, and it "
        "only touches new writes: objects already stored are not rewritten.",
    ),
    "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding": (
        "The switch that puts a mutating checkout rule into effect",
        "It says where a rule applies, which namespaces or resources, and which parameter "
        "object it reads, like posting a policy at certain tills.",
        "It is a wiring record, not goods and not the rule itself; deleting it turns the "
        "policy off without touching the policy object.",
    ),
    "admissionregistration.k8s.io/MutatingWebhookConfiguration": (
        "A list of outside inspectors the front door calls to edit orders",
        "For matching requests the API server sends the object to your HTTPS service, which "
        "can hand back changes, like a shop phoning a gift-wrap partner before an order is "
        "accepted.",
        "The inspector is a real server you must run: if it is slow or down, requests may "
        "fail or skip it depending on its failure policy, and a broken webhook can stall the "
        "whole cluster.",
    ),
    "admissionregistration.k8s.io/ValidatingAdmissionPolicy": (
        "A checkout rule, written in CEL, that can turn an order away",
        "Like a till that will not sell alcohol without ID, it checks each matching request "
        "inside the API server and flags the ones that break its rules.",
        "It can judge but never change anything, it needs a ValidatingAdmissionPolicyBinding "
        "to take effect, and it only checks new writes, never objects already stored.",
    ),
    "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": (
        "The switch that puts a validating checkout rule into effect",
        "It picks where a validating policy applies and what a failure means: deny the "
        "request, return a warning, or note it in the audit log.",
        "It holds no rule of its own, and several bindings can share one policy with "
        "different scopes and parameters, which no shop sign would do.",
    ),
    "admissionregistration.k8s.io/ValidatingWebhookConfiguration": (
        "A list of outside inspectors who may veto orders",
        "After any edits are done, the API server asks your HTTPS service whether each "
        "matching request is acceptable, like a card check before payment goes through.",
        "It can only answer yes or no and relies on a server you run; timeouts and the "
        "failure policy decide what happens when that server cannot be reached.",
    ),
    "apiextensions.k8s.io/CustomResourceDefinition": (
        "A third-party seller's listing: a brand-new kind of product",
        "Like a marketplace seller adding items to the catalog, a CRD adds a new kind with "
        "its own group, versions and schema, which you then order through the same front door "
        "with kubectl.",
        "Listing is not fulfilment: the API server only stores the new objects in the same "
        "order book, and nothing happens to them unless the seller also runs a controller (an "
        "operator). Deleting the CRD deletes every object of that kind.",
    ),
    "apiregistration.k8s.io/APIService": (
        "A partner concession in the store, run by another server",
        "It tells the front door that requests for one group and version go to a given "
        "backend, like an in-store concession that serves its own customers; metrics.k8s.io "
        "usually works this way.",
        "Unlike a CRD, the main API server stores nothing for an external APIService: the "
        "other server owns the data and behaviour. Every built-in group and version also has "
        "a local APIService entry, so not every one is a partner.",
    ),
    "apps/ControllerRevision": (
        "An order history archive: frozen snapshots of a workload's past versions",
        "DaemonSets and StatefulSets keep one per version of their Pod template, so history "
        "can be shown and rolled back, like the saved versions of a standing order.",
        "You never order one and it is not meant to be edited; it is bookkeeping for "
        "controllers. Deployments do not use it: their history lives in old ReplicaSets.",
    ),
    "apps/DaemonSet": (
        "A rule that puts one copy of a Pod on every matching node",
        "Like stocking the same first-aid kit at every depot, it makes sure each Node, new "
        "ones included, runs one copy, which suits log shippers and node agents.",
        "There is no count to pick: the number of Pods follows the number of matching Nodes, "
        "and each copy is tied to its Node, so when a Node leaves its copy goes too.",
    ),
    "apps/Deployment": (
        "A standing subscription that keeps N identical Pods in stock",
        "You say what you want and how many, and it keeps that many running, replacing losses "
        "and rolling out new versions gradually, like a subscription that ships replacements "
        "on its own.",
        "You never get particular items: its Pods are interchangeable and come and go under "
        "new names. It works through ReplicaSets it creates for you, and a template change "
        "replaces Pods rather than upgrading them in place.",
    ),
    "apps/ReplicaSet": (
        "The stock-keeper that holds one Pod template at exactly N copies",
        "It counts the Pods matching its selector and creates or deletes some until the "
        "number is right, like a shelf kept at a fixed level.",
        "It does not update existing Pods when its template changes, which is why Deployments "
        "make a new ReplicaSet per version. You seldom order one directly.",
    ),
    "apps/StatefulSet": (
        "A set of numbered, non-interchangeable Pods, each with its own storage",
        "Like numbered lockers, each replica gets a stable name (web-0, web-1) and its own "
        "volume that it keeps across restarts, which suits databases and clustered apps.",
        "Its Pods are still replaced, not repaired; they just come back with the same name "
        "and reattach the same claim. By default they start and stop in order, and scaling "
        "down leaves their volumes behind.",
    ),
    "authentication.k8s.io/SelfSubjectReview": (
        "A question for the front desk: who do you think I am?",
        "It is like asking customer service which account you are signed in to: the reply "
        "shows your user name and groups as the API server sees them (kubectl auth whoami).",
        "Nothing is bought or stored: you create it, read the answer in the response, and it "
        "is gone. You cannot get, list or delete one.",
    ),
    "authentication.k8s.io/TokenReview": (
        "A question for the front desk: is this token genuine, and whose is it?",
        "Like asking the shop to check a gift card, a service hands over a bearer token and "
        "learns whether it is valid and which user it belongs to.",
        "It is never stored: the answer comes back in the create response and nothing "
        "remains. It checks identity only, not what that identity may do.",
    ),
    "authorization.k8s.io/LocalSubjectAccessReview": (
        "A question for the front desk: may this user do that in this namespace?",
        "Like asking a manager whether a colleague may issue refunds on one address's orders, it "
        "checks one user's permission for one action inside one namespace.",
        "It is a question, not a product: created, answered and never saved. It only reports "
        "the decision and grants nothing.",
    ),
    "authorization.k8s.io/SelfSubjectAccessReview": (
        "A question for the front desk: am I allowed to do this?",
        "It is what kubectl auth can-i sends: you describe an action and get a yes or no, "
        "like asking before you head to the checkout.",
        "Nothing is stored and nothing changes. The answer covers authorization only; the "
        "real request can still be refused later by admission rules.",
    ),
    "authorization.k8s.io/SelfSubjectRulesReview": (
        "A question for the front desk: what may I do in this namespace?",
        "It returns the actions you are allowed in a namespace, like a printout of your "
        "account's privileges (kubectl auth can-i --list).",
        "It is answered and forgotten, never stored, and the list can be incomplete when an "
        "authorizer cannot enumerate its rules, so check the incomplete flag before trusting "
        "it.",
    ),
    "authorization.k8s.io/SubjectAccessReview": (
        "A question for the front desk: may this user do that, anywhere?",
        "Services such as webhooks or the kubelet use it to have the API server make an "
        "access decision for any user, group and action.",
        "It is a one-off question, never stored. Asking about other people is itself a "
        "privilege, and the reply is only advice: the asker has to enforce it.",
    ),
    "autoscaling/HorizontalPodAutoscaler": (
        "An auto-restock rule that grows or shrinks a workload with demand",
        "Like a shop that orders more stock when sales pick up, it watches metrics such as "
        "CPU use and moves a Deployment's or StatefulSet's replica count between a minimum "
        "and a maximum.",
        "It buys nothing itself: it only edits the target's replica count, needs a metrics "
        "source such as metrics-server, and reacts after the fact. autoscaling/v1 knows only "
        "CPU; v2 adds memory and custom metrics.",
    ),
    "batch/CronJob": (
        "A repeat delivery booked on a schedule",
        "Like a weekly grocery slot, it creates a new Job at times written in cron syntax, "
        "for backups, reports and other recurring chores.",
        "Each run is a fresh Job, not the same parcel again. Runs can be missed or, rarely, "
        "doubled, and overlaps follow its concurrency policy, so the work should be safe to "
        "repeat; times use the controller manager's time zone unless you set one.",
    ),
    "batch/Job": (
        "A one-off task that runs until it is done",
        "Like booking an assembly service, you order work rather than goods: it runs Pods "
        "until the required number finish successfully, retrying failures up to a limit.",
        "Success is counted in completions, not in items kept running, and the finished Job "
        "and its Pods stay until you or a TTL clean them up. Retries start new Pods, so the "
        "work may run more than once.",
    ),
    "certificates.k8s.io/CertificateSigningRequest": (
        "An application for a signed certificate, like requesting a staff badge",
        "You submit your public key and intended use, someone approves the request, and a "
        "signer attaches the issued certificate to its status.",
        "Approving and signing are separate steps, and approval alone issues nothing. Your "
        "private key never goes into the request, and old requests are cleaned up "
        "automatically.",
    ),
    "certificates.k8s.io/ClusterTrustBundle": (
        "A published bundle of CA certificates that workloads may trust",
        "Like a list of accepted card issuers posted at every till, it shares trust anchors "
        "across the cluster, and Pods can mount them through a projected volume.",
        "It holds only public certificates, nothing secret, and trust is opt-in: nothing "
        "reads it unless a Pod or program is set up to.",
    ),
    "certificates.k8s.io/PodCertificateRequest": (
        "A Pod's own request for a certificate, filed by the kubelet",
        "When a Pod asks for a certificate through a projected volume, the kubelet files this "
        "request and a signer fills in the certificate, like staff getting their own badge "
        "printed.",
        "You do not create these by hand, and the private key stays on the Node; the "
        "certificate ends up in the Pod's volume, and the request is just paperwork until it "
        "is answered.",
    ),
    "coordination.k8s.io/Lease": (
        "A 'reserved for' tag: a tiny lock and heartbeat record",
        "Like a 'held for' sticker with a time on it that the holder keeps renewing, Nodes "
        "use Leases as heartbeats and controllers use them to elect a single leader.",
        "It is not a rental and nothing enforces it: the API server just stores the holder "
        "and times, and the programs involved agree to respect them. If the holder stops "
        "renewing, another can take over.",
    ),
    "discovery.k8s.io/EndpointSlice": (
        "One page of the address list for the Pods behind a Service",
        "It is the pick list behind a counter, split into pages of up to about 100 addresses, "
        "so a change rewrites one page instead of the whole book.",
        "It is bookkeeping, not a product: a controller writes it from the Service's selector "
        "and kube-proxy reads it. One Service can have many slices, and you rarely edit them "
        "yourself.",
    ),
    "events.k8s.io/Event": (
        "A tracking note, in the newer and richer format",
        "These are the same tracking notes as the core Event: what happened to which object, "
        "which component reported it, and why.",
        "It is not a second set of notes: both APIs show the same stored events. They are "
        "still best-effort, folded together when repeated and removed after about an hour by "
        "default.",
    ),
    "flowcontrol.apiserver.k8s.io/FlowSchema": (
        "A queue sorter that decides which checkout lane each request joins",
        "Like sending staff to one till and shoppers to another, it matches requests by user, "
        "group or resource and assigns them to a priority level.",
        "It governs traffic to the API server itself, not to your apps, and it sells nothing: "
        "it protects the front door from overload, so requests in busy lanes may wait or be "
        "refused with HTTP 429.",
    ),
    "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration": (
        "A checkout lane with its own share of tills and queueing rules",
        "Each level gets a share of the API server's capacity and its own queues, so busy "
        "low-priority callers cannot crowd out the important ones.",
        "The tills are concurrent request slots inside each API server, not staff; shares are "
        "relative, and the built-in exempt and catch-all levels must always exist.",
    ),
    "networking.k8s.io/IPAddress": (
        "A record that one Service IP address is taken",
        "Like a numbered parking bay with a name on it, each object claims one cluster IP for "
        "one Service, so no two Services get the same address.",
        "You do not order these: the API server writes one when it allocates a Service's "
        "cluster IP and removes it afterwards. The object's name is the IP address itself.",
    ),
    "networking.k8s.io/Ingress": (
        "A street sign routing outside web traffic to the right counter",
        "It maps host names and URL paths to Services, with optional TLS, like a mall "
        "directory that sends shoppers to the right shop.",
        "The sign does nothing until an ingress controller is installed to read it. It covers "
        "only HTTP and HTTPS, and the API is frozen: new features go into the Gateway API, "
        "which is installed as CRDs.",
    ),
    "networking.k8s.io/IngressClass": (
        "A label naming which company delivers a given Ingress",
        "It names the controller that should handle Ingresses choosing this class, like "
        "picking a courier brand at checkout, and one class can be marked as the default.",
        "It is only a pointer: the controller itself must be installed separately, and the "
        "class does nothing on its own.",
    ),
    "networking.k8s.io/NetworkPolicy": (
        "A door rule saying who may talk to which Pods",
        "Like staff-only doors, it selects Pods by label and lists which Pods, namespaces or "
        "IP ranges may connect to them, or be reached from them.",
        "It only works if the network plugin enforces it; otherwise it is silently ignored. "
        "Pods no policy selects accept all traffic, and rules can only allow, never "
        "explicitly deny.",
    ),
    "networking.k8s.io/ServiceCIDR": (
        "A block of addresses the cluster may hand out to Services",
        "Like a range of counter numbers set aside in advance, it defines the IP ranges that "
        "Service cluster IPs are drawn from, and you can add ranges as you grow.",
        "It is address planning, not goods; ranges should not overlap the Pod or node "
        "networks, and a range cannot be fully removed while Services still use addresses "
        "from it.",
    ),
    "node.k8s.io/RuntimeClass": (
        "A choice of container engine setup for a Pod",
        "Like picking standard or gift packaging, a Pod names a RuntimeClass to run under a "
        "different handler, such as a sandboxed runtime, with any extra overhead counted.",
        "The class only names a handler: the runtime must already be configured on the Nodes, "
        "and a Pod sent to a Node without it will fail to start unless scheduling rules keep "
        "it away.",
    ),
    "policy/PodDisruptionBudget": (
        "A rule limiting how many of your Pods may be taken away at once",
        "Like a shop that keeps at least two tills open during a refit, it makes voluntary "
        "evictions, such as node drains, respect a minimum available or maximum unavailable.",
        "It only guards against evictions through the Eviction API: crashes, node failures "
        "and plain deletes ignore it. It never brings Pods back; it only slows their removal.",
    ),
    "rbac.authorization.k8s.io/ClusterRole": (
        "A store policy listing allowed actions, valid at every delivery address",
        "It names verbs on resources, like 'may view orders' or 'may issue refunds', and can "
        "be used in any namespace or for cluster-wide kinds such as Nodes.",
        "It is a policy, not goods, and grants nothing until it is bound to someone. RBAC "
        "only ever adds permissions; there is no deny rule.",
    ),
    "rbac.authorization.k8s.io/ClusterRoleBinding": (
        "The assignment that gives a role to someone across the whole store",
        "It hands a ClusterRole to users, groups or ServiceAccounts in every namespace at "
        "once, like a badge that opens every door in the shop.",
        "It is a policy record, not a product. Its role reference cannot change after "
        "creation, so you replace the binding instead, and cluster-wide power is easy to hand "
        "out too freely.",
    ),
    "rbac.authorization.k8s.io/Role": (
        "A store policy listing allowed actions for one delivery address",
        "Like a rule for one address such as 'these staff may cancel its orders', it lists "
        "verbs on resources inside a single namespace.",
        "It grants nothing until a RoleBinding assigns it, and it cannot cover cluster-wide "
        "kinds such as Nodes. Rules only add permissions; there is no way to deny.",
    ),
    "rbac.authorization.k8s.io/RoleBinding": (
        "The assignment that gives a role to someone for one delivery address",
        "It hands a Role, or a ClusterRole limited to this namespace, to users, groups or "
        "ServiceAccounts, like giving a staff member the keys to one address's orders.",
        "It is a policy, not goods, and its role reference is fixed once created. Users and "
        "groups are not Kubernetes objects: the binding only names them, and authentication "
        "decides who they are.",
    ),
    "resource.k8s.io/DeviceClass": (
        "A product category for special hardware such as GPUs",
        "An admin defines a class, say 'large GPUs', with selectors and settings, and claims "
        "ask for devices by class, like shopping by category.",
        "It lists no actual stock: real devices are published by drivers in ResourceSlices, "
        "and the class only filters and configures them.",
    ),
    "resource.k8s.io/DeviceTaintRule": (
        "A 'do not sell' sticker for particular hardware devices",
        "Like pulling faulty items off the shelf, it taints matching devices so new claims "
        "avoid them, and with the stronger effect it also evicts Pods already using them.",
        "It does not touch the hardware; it only changes scheduling and eviction decisions, "
        "and claims that tolerate the taint can still get the device.",
    ),
    "resource.k8s.io/ResourceClaim": (
        "An order for special hardware, such as one GPU, for your Pods",
        "It asks for devices by class and requirements; the scheduler finds matching ones and "
        "records the allocation, and Pods that reference the claim get to use them.",
        "The device never ships: it stays on its Node, so Pods using it must run there. One "
        "claim can also be shared by several Pods, unlike a parcel sent to one address.",
    ),
    "resource.k8s.io/ResourceClaimTemplate": (
        "A blueprint that makes a fresh hardware order for each Pod",
        "Instead of one shared claim, each Pod that references the template gets its own "
        "ResourceClaim, like a kit ordered with every item.",
        "The template itself reserves nothing, and the claims it generates are deleted along "
        "with their Pods.",
    ),
    "resource.k8s.io/ResourceSlice": (
        "An inventory sheet of hardware devices, published by a driver",
        "It is the stock list: a DRA driver reports which devices a Node or pool has, with "
        "their attributes, and the scheduler shops from it.",
        "You do not order these; drivers write and update them. They describe what exists, "
        "not what is free: allocations are recorded in ResourceClaims.",
    ),
    "scheduling.k8s.io/PriorityClass": (
        "A shipping tier: how important a Pod is when space runs short",
        "Like priority shipping, Pods with a higher-value class are placed ahead of others "
        "when the queue is long.",
        "Unlike a shop, it can take from others: a high-priority Pod may preempt, evicting "
        "lower-priority Pods to make room. It costs nothing, so limiting who uses which class "
        "takes quotas or admission rules.",
    ),
    "storage.k8s.io/CSIDriver": (
        "A supplier record describing an installed storage driver",
        "It tells Kubernetes how to deal with a CSI storage supplier, such as whether volumes "
        "need an attach step or Pod details at mount time.",
        "Creating it installs nothing: the driver software is deployed separately, and this "
        "object only describes its habits.",
    ),
    "storage.k8s.io/CSINode": (
        "A per-node note of which storage drivers are set up there",
        "Each Node has one, written by the kubelet, listing the CSI drivers registered on it "
        "and limits such as how many volumes it can attach.",
        "It is status about a machine, not a product: you do not create or edit it, and it "
        "shares its name with its Node.",
    ),
    "storage.k8s.io/CSIStorageCapacity": (
        "A stock level: how much storage a class has left in one zone",
        "Storage drivers publish how much capacity is free for a StorageClass in a given "
        "topology, so the scheduler avoids Nodes where a new volume would not fit.",
        "It is an estimate, not a reservation: figures can be stale and provisioning can "
        "still fail. It only matters for drivers that turn on storage capacity tracking.",
    ),
    "storage.k8s.io/StorageClass": (
        "A storage tier on offer, like standard or express shelving",
        "Claims pick a class by name, and its provisioner makes a matching volume on demand "
        "with the class's parameters and reclaim policy.",
        "The class is a recipe, not stock, and its provisioner and parameters cannot be "
        "changed after creation. What 'fast' means is entirely up to the provisioner behind "
        "it.",
    ),
    "storage.k8s.io/VolumeAttachment": (
        "A work order to plug a volume into a specific node",
        "When a Pod needs a volume on a Node, a controller files this request, and the "
        "storage driver's attacher carries it out and reports back.",
        "It is internal paperwork: you do not create it yourself, and it exists only for "
        "drivers that need an attach step.",
    ),
    "storage.k8s.io/VolumeAttributesClass": (
        "A performance tier for volumes that you can change after purchase",
        "It names settings such as IOPS or throughput; a claim points at a class, and "
        "switching to another class asks the driver to change the live volume.",
        "Changes need a driver that can modify volumes in place, and the existing storage is "
        "altered rather than swapped; a class's parameters cannot be edited after creation.",
    ),
    "storagemigration.k8s.io/StorageVersionMigration": (
        "A back-room job to relabel stored stock in the current format",
        "Like reboxing old inventory with new labels, it asks the cluster to rewrite every "
        "stored object of one resource, for example after a version change or new encryption "
        "settings.",
        "Nothing visible changes for users: objects keep their content and are simply saved "
        "again. It is a maintenance task, not a product, and it relies on the migration "
        "controller running.",
    ),
}


def department(group: str) -> tuple[str, str]:
    """The department name and pitch for an API group, with a fallback for new groups."""
    if group in DEPARTMENTS:
        return DEPARTMENTS[group]
    label = group.split(".")[0].replace("-", " ").title() if group else "Core"
    return f"{label} department", f"Products served by the {group or 'core'} API group."


def product(group: str, kind: str) -> tuple[str, str, str]:
    """What kind of stuff a kind is, where the analogy holds and where it breaks."""
    if f"{group}/{kind}" in PRODUCTS:
        return PRODUCTS[f"{group}/{kind}"]
    return (
        f"A {kind} record kept by the {group or 'core'} API",
        "You order it through the same front door as everything else, and it is stored "
        "in the order book until someone deletes it.",
        "Nothing is shipped: ordering it only writes down what you want, and some program "
        "in the cluster has to read that record and act on it.",
    )


@dataclass(frozen=True)
class Pairing:
    """One line of the analogy map: a shop idea, its Kubernetes counterpart, and where the
    comparison stops being true."""

    shop: str
    kube: str
    breaks: str


# The whole analogy, drawn on the store front and in the first lesson, read from the one
# dictionary so the map, the panels and the lessons never word a pair two ways.
PAIRINGS: tuple[Pairing, ...] = tuple(
    Pairing(term.shop, term.kube, term.breaks) for term in dictionary.ANALOGY
)
