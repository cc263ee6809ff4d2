"""/metrics for Prometheus, and the logs as JSON without ticket tokens."""

import io
import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.observability.logs import REDACTED, JsonFormatter, RedactTokens, redact
from tests.server import ROOT, ServerProcess, free_port
from tests.world import World

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

CALL_NEXT = "/api/v1/counters/{counter_id}/call-next"
DURATION = "antrean_http_request_duration_seconds"


def scrape(client: TestClient) -> Samples:
    # Event counters follow each commit on the after-commit thread: let it catch up first.
    client.app.state.writer.after_commit.drain()  # type: ignore[attr-defined]
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: object) -> float | None:
    return samples.get((name, frozenset((k, str(v)) for k, v in labels.items())))


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


def test_metrics_speak_prometheus_text_outside_the_api_and_its_schema(client: TestClient) -> None:
    families = {
        family.name for family in text_string_to_metric_families(client.get("/metrics").text)
    }
    assert {
        DURATION,
        "antrean_tickets_issued",
        "antrean_tickets_called",
        "antrean_tickets_completed",
        "antrean_websockets_connected",
    } <= families
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    assert client.get("/api/v1/metrics").status_code == 404


def test_counters_and_the_waiting_gauge_count_what_committed(world: World) -> None:
    clinic, services = world.clinic_id, world.services
    for _ in range(3):
        world.take("A")
    assert world.call("Loket 1").status_code == 200

    samples = scrape(world.client)
    assert value(samples, "antrean_tickets_issued_total", clinic_id=clinic, channel="kiosk") == 3
    assert value(samples, "antrean_tickets_called_total", clinic_id=clinic) == 1
    assert value(samples, "antrean_tickets_completed_total", clinic_id=clinic) is None
    waiting = {
        prefix: value(
            samples, "antrean_waiting_tickets", clinic_id=clinic, service_id=service["id"]
        )
        for prefix, service in services.items()
    }
    assert waiting == {"A": 2, "B": 0, "C": 0, "D": 0}

    # Next at a counter that holds a ticket completes it and calls another, in one commit.
    assert world.call("Loket 1").status_code == 200
    world.take("C", headers=world.staff)
    samples = scrape(world.client)
    assert value(samples, "antrean_tickets_called_total", clinic_id=clinic) == 2
    assert value(samples, "antrean_tickets_completed_total", clinic_id=clinic) == 1
    assert value(samples, "antrean_tickets_issued_total", clinic_id=clinic, channel="staff") == 1
    assert (
        value(samples, "antrean_waiting_tickets", clinic_id=clinic, service_id=services["A"]["id"])
        == 1
    )


def test_refused_requests_count_nothing(world: World) -> None:
    clinic = world.clinic_id
    for _ in range(3):
        world.take("C")  # Poli Gigi's daily quota is 3
    assert world.take_response("C").status_code == 409
    waiting = world.take("A")
    assert world.act(waiting, "complete").status_code == 409  # not called yet
    assert world.call("Ruang Umum").status_code == 204  # nobody waits for Poli Umum

    samples = scrape(world.client)
    assert value(samples, "antrean_tickets_issued_total", clinic_id=clinic, channel="kiosk") == 4
    assert value(samples, "antrean_tickets_called_total", clinic_id=clinic) is None
    assert value(samples, "antrean_tickets_completed_total", clinic_id=clinic) is None
    gigi = world.services["C"]["id"]
    assert value(samples, "antrean_waiting_tickets", clinic_id=clinic, service_id=gigi) == 3


def test_request_latency_is_labelled_by_route_template(world: World) -> None:
    counter_id = world.counters["Loket 1"]["id"]
    ticket = world.take("A")
    world.call("Loket 1")
    world.client.get(f"/t/{ticket['id']}", params={"token": ticket["token"]})
    world.client.get("/no/such/page/12345")
    world.client.get("/static/css/base.css")

    samples = scrape(world.client)
    count = f"{DURATION}_count"
    assert value(samples, count, route=CALL_NEXT, method="POST", status="2xx") == 1
    assert value(samples, count, route="/t/{ticket_id}", method="GET", status="2xx") == 1
    assert value(samples, count, route="unmatched", method="GET", status="4xx") == 1
    assert value(samples, count, route="/static/{path}", method="GET", status="2xx") == 1
    routes = label_values(samples, count, "route")
    assert "/api/v1/clinics/{clinic_id}/tickets" in routes
    assert f"/api/v1/counters/{counter_id}/call-next" not in routes
    assert not any(segment.isdigit() for route in routes for segment in route.split("/"))
    assert all(route.startswith("/") or route == "unmatched" for route in routes)


def test_open_websockets_are_counted_per_feed(world: World) -> None:
    def sockets(feed: str) -> float | None:
        return value(scrape(world.client), "antrean_websockets_connected", feed=feed)

    assert (sockets("display"), sockets("ticket")) == (0, 0)
    ticket = world.take("A")
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as display:
        assert display.receive_json()["type"] == "snapshot"
        path = f"/ws/tickets/{ticket['id']}?token={ticket['token']}"
        with world.client.websocket_connect(path) as phone:
            assert phone.receive_json()["type"] == "ticket"
            assert (sockets("display"), sockets("ticket")) == (1, 1)
    deadline = time.monotonic() + 5
    while (sockets("display"), sockets("ticket")) != (0, 0):
        assert time.monotonic() < deadline, "closed sockets still counted"
        time.sleep(0.02)
    # The feeds are not HTTP requests: no latency for them.
    samples = scrape(world.client)
    assert not any(
        r.startswith("/ws/") for r in label_values(samples, f"{DURATION}_count", "route")
    )


@pytest.mark.parametrize(
    ("logged", "shown"),
    [
        ("/t/5?token=s3cret", f"/t/5?token={REDACTED}"),
        ("/ws/tickets/5?lang=en&token=s3cret&x=1", f"/ws/tickets/5?lang=en&token={REDACTED}&x=1"),
        ("/t/5?%74oken=s3cret", f"/t/5?%74oken={REDACTED}"),  # the name as the app decodes it
        ("/t/5?tokens=kept&lang=en", "/t/5?tokens=kept&lang=en"),
        ("no query, token=kept", "no query, token=kept"),
    ],
)
def test_redaction_hides_only_the_token_parameter(logged: str, shown: str) -> None:
    assert redact(logged) == shown


def _handled(record: logging.LogRecord) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactTokens())
    handler.setFormatter(JsonFormatter())
    handler.handle(record)
    return out.getvalue()


def test_access_lines_are_json_without_the_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:51234", "GET", "/t/42?token=s3cret-token", "1.1", 200),
        None,
    )
    lines = _handled(record).splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert "s3cret" not in lines[0]
    assert entry["time"].endswith("Z")
    assert (entry["level"], entry["logger"]) == ("INFO", "uvicorn.access")
    assert entry["message"] == f'10.0.0.7:51234 - "GET /t/42?token={REDACTED} HTTP/1.1" 200'
    assert (entry["method"], entry["path"], entry["status"]) == (
        "GET",
        f"/t/42?token={REDACTED}",
        200,
    )


def test_other_lines_are_json_with_their_exception() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "antrean",
            logging.ERROR,
            __file__,
            1,
            "sweep failed for %s",
            ("clinic 3",),
            sys.exc_info(),
        )
    entry = json.loads(_handled(record))
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "antrean",
        "sweep failed for clinic 3",
    )
    assert "RuntimeError: boom" in entry["exception"]


@pytest.fixture
def sqlite_copy(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "antrean.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def json_server(sqlite_copy: str, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`python -m app` with JSON logs, its stdout and stderr in files."""
    port = free_port()
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    env = {
        **ServerProcess({}).env,
        "ANTREAN_DATABASE_URL": sqlite_copy,
        "ANTREAN_LOG_FORMAT": "json",
        "ANTREAN_LOG_LEVEL": "info",
    }
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, "server did not come up"
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield url, stdout, stderr
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.slow
def test_the_server_logs_json_lines_without_tokens(json_server: tuple[str, Path, Path]) -> None:
    url, stdout, stderr = json_server
    httpx.get(f"{url}/t/1", params={"token": "s3cret-token"}, timeout=5)
    with connect(f"ws://{url.removeprefix('http://')}/ws/tickets/1?token=s3cret-token") as ws:
        with pytest.raises(ConnectionClosed):  # no such ticket
            ws.recv(timeout=5)
    time.sleep(0.3)  # let the server write its lines

    lines = [
        line for text in (stdout.read_text(), stderr.read_text()) for line in text.splitlines()
    ]
    entries = [json.loads(line) for line in lines if line.strip()]
    assert not any("s3cret" in line for line in lines)
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": f"/t/1?token={REDACTED}", "status": 404}.items() <= access[
        -1
    ].items()
    assert any(f"/ws/tickets/1?token={REDACTED}" in e["message"] for e in entries)
    assert any(e["logger"] == "uvicorn.error" and e["level"] == "INFO" for e in entries)


@pytest.mark.slow
def test_two_workers_share_their_metrics_in_multiprocess_mode(
    sqlite_copy: str, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    server = ServerProcess(
        {
            "ANTREAN_DATABASE_URL": sqlite_copy,
            "ANTREAN_RUN_MIGRATIONS": "false",
            "ANTREAN_SECRET_KEY": "multiprocess-test-key",
            "ANTREAN_WORKERS": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
    )
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999999.db").write_bytes(b"stale")  # from an earlier run
    server.start()
    try:
        for _ in range(20):
            assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        answers = set()
        for _ in range(6):  # new connections: either worker answers, and tells both's sum
            text = httpx.get(f"{server.url}/metrics", timeout=5).text
            answers.add(
                next(
                    sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                    if sample.name == f"{DURATION}_count" and sample.labels["route"] == "/healthz"
                )
            )
        assert len(answers) == 1
        assert answers.pop() >= 20
        assert not (metrics_dir / "counter_999999999.db").exists()
        assert len(list(metrics_dir.glob("gauge_livesum_*.db"))) == 2  # one a worker
    finally:
        server.stop()
