"""`kubectl exec` over WebSocket: Kubernetes' channel protocol, served from the ASGI app.

kubectl 1.30 and newer open an exec as a WebSocket upgrade of a GET on pods/NAME/exec,
offering the subprotocol ``v5.channel.k8s.io`` (the Python client offers
``v4.channel.k8s.io``). Every binary message starts with its channel's number:

    0 stdin, 1 stdout, 2 stderr, 3 the result as a metav1.Status, 4 terminal resizes,
    and in v5, 255 a close signal (``255 0``: stdin has ended).

The request passes the same gates as any other (`pipeline.open_exec`: authentication,
fairness, RBAC's `create` on pods/exec, audit); a refusal is sent as the HTTP answer to
the upgrade, a Status that kubectl shows as it would any API error. Once accepted, the
pretend shell (`controlplane.shell`) runs the command: its lines go to stdout and stderr,
`sleep` really waits, and the exit code ends the stream as a Status on channel 3
(``NonZeroExitCode`` with an ``ExitCode`` cause, so kubectl exits with that code). A bare
``sh`` with stdin reads commands line by line, with a prompt when it has a terminal.
"""

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import parse_qsl

from apiserver import pipeline
from apiserver.endpoints.handlers.connect import ExecSession
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.server.asgi import watch_thread
from controlplane import shell

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROMPT = "/ # "


def is_exec(scope: dict[str, Any]) -> bool:
    return scope["type"] == "websocket"


def request_from(scope: dict[str, Any]) -> ApiRequest:
    """The upgrade as the pipeline reads any request (one value per parameter, the words
    of `command` kept apart as well)."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    command = [value for key, value in pairs if key == "command"]
    query = dict(pairs)
    query["command"] = " ".join(command)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    client = scope.get("client") or ("", 0)
    return ApiRequest(
        method="GET",
        path=scope["path"],
        query=query,
        headers=headers,
        remote_addr=client[0] or "",
        command=command,
    )


async def serve(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """One WebSocket connection: the gates, the upgrade, then the command's streams."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    request = request_from(scope)
    answer = await asyncio.wrap_future(watch_thread().submit(pipeline.open_exec, request))
    offered = scope.get("subprotocols") or []
    protocol = next((p for p in PROTOCOLS if p in offered), None)
    if isinstance(answer, ApiResponse):
        await _refuse(scope, send, answer)
        return
    if protocol is None:
        refusal = ApiResponse(
            400,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"exec needs one of the WebSocket subprotocols {', '.join(PROTOCOLS)}",
                "reason": "BadRequest",
                "code": 400,
            },
        )
        await _refuse(scope, send, refusal)
        return
    await send({"type": "websocket.accept", "subprotocol": protocol})
    stream = _Stream(answer, protocol, send, receive)
    await stream.run()


async def _refuse(scope: dict[str, Any], send: Any, response: ApiResponse) -> None:
    """The refusal as the upgrade's HTTP answer, where the server can send one."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [(b"content-type", b"application/json")]
    headers += [(k.encode(), v.encode()) for k, v in response.headers.items()]
    await send(
        {"type": "websocket.http.response.start", "status": response.status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": response.content()})


class _Stream:
    """The channels of one accepted exec, and the shell behind them."""

    def __init__(self, session: ExecSession, protocol: str, send: Any, receive: Any) -> None:
        self.session = session
        self.protocol = protocol
        self._send = send
        self._receive = receive
        self.stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.shell = shell.Shell(session.box, trusting=False)
        self.newline = "\r\n" if session.tty else "\n"

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        # A client gone mid-write (uvicorn says so with an OSError) ends the stream quietly.
        with contextlib.suppress(OSError):
            await self._run()
        reader.cancel()

    async def _run(self) -> None:
        try:
            runner = asyncio.create_task(self._execute())
            done, _ = await asyncio.wait(
                {runner, asyncio.create_task(self.gone.wait())},
                return_when=asyncio.FIRST_COMPLETED,
            )
            if runner not in done:
                runner.cancel()
                return
            runner.result()  # a fault in the shell is the server's, and logged as such
            await self._finish(self.shell.code)
        finally:
            self.gone.set()

    async def _read(self) -> None:
        """Demultiplex what the client sends: stdin, resizes, and stdin's close signal."""
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.gone.set()
                self.stdin.put_nowait(None)
                return
            data = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode()
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == STDIN and payload:
                self.stdin.put_nowait(payload)
            elif channel == CLOSE and payload[:1] == bytes([STDIN]):
                self.stdin.put_nowait(None)

    async def _execute(self) -> None:
        words = self.session.command
        script = shell.script_of(words)
        if script is not None:
            await self._play(script)
        elif self.session.stdin:
            await self._interactive()

    async def _play(self, script: str) -> None:
        for kind, value in self.shell.run(script):
            if kind == "out":
                await self._write(STDOUT, f"{value}{self.newline}")
            elif kind == "err":
                channel = STDERR if self.session.stderr and not self.session.tty else STDOUT
                await self._write(channel, f"{value}{self.newline}")
            elif kind == "sleep":
                if value is None:
                    await self.gone.wait()
                    return
                await asyncio.sleep(float(value))

    async def _interactive(self) -> None:
        """A shell reading commands from stdin, a line at a time, until exit or EOF."""
        tty = self.session.tty
        line = ""
        if tty:
            await self._write(STDOUT, PROMPT)
        while not self.shell.exited:
            chunk = await self.stdin.get()
            if chunk is None:
                if line.strip():
                    await self._play(line)
                return
            for char in chunk.decode("utf-8", "replace"):
                if tty and char == "\x7f":
                    if line:
                        line = line[:-1]
                        await self._write(STDOUT, "\b \b")
                    continue
                if tty and char == "\x03":
                    line = ""
                    await self._write(STDOUT, f"^C\r\n{PROMPT}")
                    continue
                if tty and char == "\x04" and not line:
                    await self._write(STDOUT, "\r\n")
                    return
                if char not in "\r\n":
                    line += char
                    if tty:
                        await self._write(STDOUT, char)
                    continue
                if tty:
                    await self._write(STDOUT, "\r\n")
                await self._play(line)
                line = ""
                if self.shell.exited:
                    return
                if tty:
                    await self._write(STDOUT, PROMPT)

    async def _write(self, channel: int, text: str) -> None:
        await self._send({"type": "websocket.send", "bytes": bytes([channel]) + text.encode()})

    async def _finish(self, code: int) -> None:
        """The result on the error channel, then a normal close (every stream's EOF)."""
        if code == 0:
            status = {"metadata": {}, "status": "Success"}
        else:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": (
                    f"command terminated with non-zero exit code: error executing command "
                    f"[{' '.join(self.session.command)}], exit code {code}"
                ),
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        await self._write(ERROR, json.dumps(status))
        await self._send({"type": "websocket.close", "code": 1000})
