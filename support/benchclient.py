"""One learner's keep-alive HTTPS client for the benchmarks: a token, a namespace, TLS."""

import http.client
import json
import ssl
from dataclasses import dataclass


@dataclass
class ApiTarget:
    """Where a benchmark's learner sends requests, and as whom."""

    host: str
    port: int
    token: str
    namespace: str
    context: ssl.SSLContext
    agent: str = "warehouse-bench"

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": self.agent,
        }

    def collection(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/configmaps"

    def send(self, conn, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers=self.headers())
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}
