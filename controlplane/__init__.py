"""The simulated control plane: scheduler, kubelets, controllers and events.

Everything here is a client of the API server. It reads and writes objects only through
`apiserver.pipeline.handle`, so its work shows in the audit log like any other client's.
"""
