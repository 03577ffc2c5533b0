"""A real HTTP server on 127.0.0.1 for the URL tests: canned responses per path, requests recorded."""

from __future__ import annotations

import inspect
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    stream_chunks: int = 0  # when > 0: send `body` this many times, without Content-Length


@dataclass
class LocalServer:
    base: str
    routes: dict[str, Response | Callable[..., Response]]
    requests: list[tuple[str, dict[str, str]]]
    connections: list[tuple[str, int]]  # the client address of every TCP connection accepted

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, response: Response) -> str:
        self.routes[path] = response
        return self.url(path)


@contextmanager
def serve() -> Iterator[LocalServer]:
    """A threaded HTTP server on 127.0.0.1 (random port) answering from `routes`; logs each request."""
    routes: dict[str, Response | Callable[..., Response]] = {}
    requests: list[tuple[str, dict[str, str]]] = []
    connections: list[tuple[str, int]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            requests.append((self.path, headers))
            response = routes.get(self.path)
            if callable(response):  # a handler: given the request's headers if it takes them
                takes = inspect.signature(response).parameters
                response = response(headers) if takes else response()
            if response is None:
                response = Response(b"<html><body><p>Not here</p></body></html>", status=404)
            time.sleep(response.delay)
            try:
                self.send_response(response.status)
                if response.content_type:
                    self.send_header("Content-Type", response.content_type)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if response.stream_chunks:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for _ in range(response.stream_chunks):
                        self.wfile.write(response.body)
                    self.close_connection = True
                else:
                    if "Content-Length" not in response.headers:
                        self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client stopped reading (size cap): expected

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def verify_request(self, request, client_address) -> bool:
            connections.append(client_address)
            return True

        def handle_error(self, request, client_address) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a client closing its kept-alive line
                super().handle_error(request, client_address)

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{httpd.server_address[1]}", routes, requests, connections)
    finally:
        httpd.shutdown()
        httpd.server_close()
