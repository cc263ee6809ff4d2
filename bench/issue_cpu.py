"""CPU per ticket issued, in-process: the ASGI app driven directly (no sockets, no client
cost), bursts of 32 tickets on the event loop, one SQLite file. Repeatable enough to compare
two trees run in turn (noise on a shared machine: compare medians).

    .venv/bin/python -m bench.issue_cpu [--rounds 5]
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from typing import Any

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade_to_head

BURST = 32

Json = dict[str, Any]
ADMIN = ("admin", "admin-password-for-bench")


async def call(
    app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"", form: bool = False
) -> tuple[int, bytes]:
    """One request through the ASGI app, without a client or a socket."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if body:
        kind = b"application/x-www-form-urlencoded" if form else b"application/json"
        raw += [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        return {}

    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


async def _json(app: Any, method: str, path: str, headers: dict[str, str], data: Json) -> Json:
    status, body = await call(app, method, path, headers, json.dumps(data).encode())
    assert 200 <= status < 300, body
    answer: Json = json.loads(body)
    return answer


async def measure(rounds: int) -> list[float]:
    """CPU µs per ticket, one figure a round of 30 bursts."""
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    upgrade_to_head(engine)
    settings = Settings(
        database_url=url,
        run_migrations=False,
        admin_username=ADMIN[0],
        admin_password=ADMIN[1],
        secret_key=None,
    )
    app = create_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        form = f"username={ADMIN[0]}&password={ADMIN[1]}".encode()
        status, body = await call(app, "POST", "/api/v1/auth/token", {}, form, form=True)
        admin = {"Authorization": "Bearer " + json.loads(body)["access_token"]}
        clinic = await _json(
            app,
            "POST",
            "/api/v1/clinics",
            admin,
            {"code": "BENCH", "name": "Puskesmas Bench", "timezone": "Asia/Makassar"},
        )
        base = f"/api/v1/clinics/{clinic['id']}"
        service = await _json(
            app, "POST", f"{base}/services", admin, {"name": "Pendaftaran", "prefix": "A"}
        )
        kiosk = await _json(app, "POST", f"{base}/devices", admin, {"name": "K", "kind": "kiosk"})
        headers = {"Authorization": "Bearer " + kiosk["key"]}
        ticket = json.dumps({"service_id": service["id"]}).encode()

        async def burst() -> None:
            answers = await asyncio.gather(
                *(call(app, "POST", f"{base}/tickets", headers, ticket) for _ in range(BURST))
            )
            assert all(status == 201 for status, _ in answers), answers[0]

        for _ in range(10):  # warm up: caches, prepared statements
            await burst()
        figures = []
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(30):
                await burst()
            figures.append((time.process_time() - started) / (30 * BURST) * 1e6)
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.rounds))
    print(
        f"{os.getcwd()}: CPU per ticket, µs: "
        + " ".join(f"{figure:.0f}" for figure in sorted(figures))
        + f"  (median {statistics.median(figures):.0f})"
    )


if __name__ == "__main__":
    main()
