"""A loopback HTTP proxy that injects real faults in front of a server.

It relays HTTP/1.1 byte streams between a client and an upstream server, parsing only the
request framing so that it can count requests. For the next requests whose method and path
match, it answers a planned fault instead of forwarding: an HTTP 500/503/403 with an S3 error
body, a TCP reset, a stall (no answer until the proxy stops, so the client's read timeout
fires), or a lost response (the request reaches the server, the client gets a reset).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

_ERRORS = {
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
    403: ("AccessDenied", "Access Denied"),
}


@dataclass
class Fault:
    action: str  # "500", "503", "403", "reset", "stall" or "lose-response"
    count: int
    match: Callable[[str, str], bool] = field(default=lambda method, path: True)


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []  # (method, path, action or "forward")
        self.user_agents: list[str] = []  # the User-Agent of each request, in order (which client sent it)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._release: asyncio.Event | None = None
        self._server: asyncio.base_events.Server | None = None
        self._lock = threading.Lock()
        self.port = 0
        self.open_connections = 0
        self.peak_connections = 0  # most client connections open at once since the last reset()

    # -------------------------------------------------------------- control (test thread)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()

    async def _start(self) -> None:
        self._release = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _stop(self) -> None:
        assert self._server is not None
        assert self._release is not None
        self._release.set()
        self._server.close()
        await self._server.wait_closed()

    def inject(self, action: str, count: int, match: Callable[[str, str], bool] | None = None) -> None:
        """Answer the next ``count`` matching requests with ``action``."""
        with self._lock:
            self.faults.append(Fault(action, count, match or (lambda m, p: True)))

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.user_agents.clear()
            self.peak_connections = self.open_connections

    def actions(self) -> list[str]:
        with self._lock:
            return [a for _, _, a in self.log]

    # -------------------------------------------------------------- relay (proxy thread)

    def _note_user_agent(self, head: bytes) -> None:
        agent = next(
            (line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"user-agent:")),
            b"",
        )
        with self._lock:
            self.user_agents.append(agent.decode(errors="replace"))

    def _decide(self, method: str, path: str) -> str:
        with self._lock:
            action = "forward"
            for fault in self.faults:
                if fault.count > 0 and fault.match(method, path):
                    fault.count -= 1
                    action = fault.action
                    break
            self.log.append((method, path, action))
            return action

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        with self._lock:
            self.open_connections += 1
            self.peak_connections = max(self.peak_connections, self.open_connections)
        closed = False

        def release() -> None:
            # A connection counts as open until the first of: the server closed it (moto's
            # werkzeug closes after every response, and the client may open the next one before
            # this relay notices the client's side close), or the relay ends.
            nonlocal closed
            if not closed:
                closed = True
                with self._lock:
                    self.open_connections -= 1

        try:
            await self._relay(client_r, client_w, release)
        finally:
            release()

    async def _relay(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, release: Callable[[], None]
    ) -> None:
        upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        pump = asyncio.ensure_future(self._pump(upstream_r, client_w))
        pump.add_done_callback(lambda _: release())
        try:
            while True:
                head = await client_r.readuntil(b"\r\n\r\n")
                method, path = head.split(b" ", 2)[:2]
                self._note_user_agent(head)
                action = self._decide(method.decode(), path.decode())
                if action == "lose-response":
                    # The server gets and carries out the request; its answer never arrives.
                    pump.cancel()
                    upstream_w.write(head)
                    await self._relay_body(head, client_r, upstream_w)
                    await upstream_r.readuntil(b"\r\n\r\n")
                    await self._fault("reset", client_w)
                    return
                if action != "forward":
                    await self._fault(action, client_w)
                    return
                upstream_w.write(head)
                await self._relay_body(head, client_r, upstream_w)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            pump.cancel()
            for w in (upstream_w, client_w):
                with contextlib.suppress(Exception):
                    w.close()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(2**16):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()

    @staticmethod
    async def _relay_body(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        text = head.decode("latin-1").lower()
        if re.search(r"^transfer-encoding:\s*chunked", text, re.M):
            while True:
                line = await reader.readuntil(b"\r\n")
                writer.write(line)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                        writer.write(trailer)
                    writer.write(b"\r\n")
                    break
                writer.write(await reader.readexactly(size + 2))
                await writer.drain()
            return
        match = re.search(r"^content-length:\s*(\d+)", text, re.M)
        remaining = int(match.group(1)) if match else 0
        while remaining:
            data = await reader.read(min(remaining, 2**16))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            writer.write(data)
            remaining -= len(data)
            await writer.drain()

    async def _fault(self, action: str, client_w: asyncio.StreamWriter) -> None:
        if action == "stall":
            assert self._release is not None
            await self._release.wait()
            return
        if action == "reset":
            sock = client_w.get_extra_info("socket")
            # SO_LINGER with a zero timeout makes close() send a TCP RST instead of a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client_w.transport.abort()
            return
        status = int(action)
        code, message = _ERRORS[status]
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
        payload = body.encode()
        head = (
            f"HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        )
        client_w.write(head.encode() + payload)
        await client_w.drain()
