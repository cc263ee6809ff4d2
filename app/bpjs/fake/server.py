"""The fake BPJS on a real socket in a thread of the test's process, so a client's timeouts
and a refused connection (BPJS down) happen for real."""

import socket
import threading
from types import TracebackType
from typing import Protocol, Self

import uvicorn
from starlette.applications import Starlette


class HasApp(Protocol):
    @property
    def app(self) -> Starlette: ...


class FakeBpjsServer:
    """`with FakeBpjsServer(fake) as server:` serves `fake` at `server.url`."""

    def __init__(self, fake: HasApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen (again, on the same port after `stop`)."""
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.fake.app, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-bpjs", daemon=True
        )
        thread.start()
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not server.started:
            server.should_exit = True
            thread.join(5)
            raise RuntimeError("the fake BPJS server did not start")
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop listening: calls now meet a refused connection, as when BPJS is down."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        # Open connections with a slow answer pending would hold it up to their sleep.
        server.force_exit = True
        thread.join(10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
