"""The API server: the shop's one front door, laid out as the request flow it teaches.

    clients (kubectl, browser, python client, scheduler, kubelets, controllers)
      |  server/      HTTPS entry, URLs, TLS, kubeconfigs; client.py for callers in this app
      v
    pipeline.py       the chain, in order:
      filters/        requestinfo -> authentication -> fairness (+ faults hook) -> authorization
      endpoints/      one handler per verb (handlers/), watch streams, discovery, OpenAPI,
                      Tables, patches, selectors, and the one request-body gate (bodies.py)
      admission/      decoding -> mutating -> validation -> validating plug-ins
      registry/       one strategy per kind (core/, apps/, batch/), CRDs, the store
      filters/audit   one record per request
      v
    watchers          endpoints/watch.py streams the store's changes to every watch

Other apps use `client.py` (the one loopback client), `accounts.py` (identities),
`readmodel.py` (what the API server publishes for reading) and `labels.py`; nothing else
reaches inside (tests/architecture checks it).
"""
