"""The simulated control plane: scheduler, kubelets, controllers and events.

Everything here is a client of the API server. It lists, watches, reads and writes objects
only through `apiserver.client`, so its work passes every gate and shows in the audit log
like any other client's.
"""
