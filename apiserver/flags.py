"""Boolean query parameters, read as kube-apiserver reads them.

Go decodes `?watch=`, `?allowWatchBookmarks=` and the like with strconv.ParseBool, so
`True` and `t` mean yes as much as `true` and `1`; kubernetes-asyncio sends `watch=True`.
"""

TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})
