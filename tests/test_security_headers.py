"""Security headers on every response, CSP on pages, HSTS only over https, CORS closed by
default and open to configured origins only, and the settings that configure them."""

import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.clock import FakeClock
from tests.world import World

PAGE_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Headers do not depend on the database: SQLite only (conftest's runs both)."""
    path = tmp_path / "antrean.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def directives(policy: str) -> dict[str, str]:
    found = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        found[name] = value
    return found


def assert_always(headers: object) -> None:
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "no-referrer"  # type: ignore[index]


def test_api_answers_and_errors_have_the_common_headers_and_no_page_policy(
    world: World,
) -> None:
    client = world.client
    for response in (
        client.get("/healthz"),
        client.get(f"/api/v1/clinics/{world.clinic_id}/queue"),
        client.get("/api/v1/no-such-thing"),
        client.post("/api/v1/auth/token", data={"username": "a", "password": "b"}),
        client.get("/static/css/base.css"),
    ):
        assert_always(response.headers)
        assert "content-security-policy" not in response.headers
        assert "strict-transport-security" not in response.headers  # plain http
    assert client.get("/api/v1/no-such-thing").status_code == 404


def test_pages_get_the_policy_and_may_not_be_framed(world: World) -> None:
    for path in (
        "/",
        "/staff",
        f"/kiosk/{world.clinic_id}",
        f"/take/{world.clinic_id}",
        "/kiosk/99999",
    ):
        response = world.client.get(path)
        assert response.headers["content-type"].startswith("text/html")
        assert_always(response.headers)
        policy = response.headers["content-security-policy"]
        for directive in PAGE_DIRECTIVES:
            assert f"{directive};" in f"{policy};", (path, policy)
        found = directives(policy)
        assert found["frame-ancestors"] == "'none'"
        assert found["connect-src"].split() == ["'self'", "ws://testserver", "wss://testserver"]
        assert "unsafe-inline" not in policy
        assert response.headers["x-frame-options"] == "DENY"


def test_a_forged_host_never_reaches_the_policy(world: World) -> None:
    response = world.client.get("/", headers={"Host": "evil.example; script-src *"})
    found = directives(response.headers["content-security-policy"])
    assert found["connect-src"] == "'self'"
    assert found["script-src"] == "'self'"


def test_the_printed_ticket_may_be_framed_by_the_kiosk_only(world: World) -> None:
    ticket = world.take()
    response = world.client.get(f"/t/{ticket['id']}/print", params={"token": ticket["token"]})
    assert response.status_code == 200, response.text
    assert directives(response.headers["content-security-policy"])["frame-ancestors"] == "'self'"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_display_is_framed_only_by_configured_origins(
    world: World, settings: Settings, engine: Engine, clock: FakeClock
) -> None:
    path = f"/display/{world.clinic_id}"
    closed = world.client.get(path)
    assert directives(closed.headers["content-security-policy"])["frame-ancestors"] == "'none'"
    assert closed.headers["x-frame-options"] == "DENY"

    origins = ["https://tv.dinkes.example.go.id", "https://signage.example.id"]
    framed = settings.model_copy(update={"display_frame_ancestors": origins})
    with TestClient(create_app(framed, engine=engine, clock=clock)) as client:
        response = client.get(path)
        policy = directives(response.headers["content-security-policy"])
        assert policy["frame-ancestors"] == " ".join(origins)
        assert "x-frame-options" not in response.headers  # it cannot name origins
        other = client.get("/")  # other pages stay unframeable
        assert directives(other.headers["content-security-policy"])["frame-ancestors"] == "'none'"


def test_hsts_only_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://antrean.example.go.id") as client:
        for path in ("/healthz", "/"):
            response = client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000"
            assert_always(response.headers)
            found = directives(response.headers["content-security-policy"] if path == "/" else "")
            if path == "/":
                assert "wss://antrean.example.go.id" in found["connect-src"]
    with TestClient(app) as client:
        assert "strict-transport-security" not in client.get("/healthz").headers


def test_api_docs_keep_their_own_scripts(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    policy = directives(response.headers["content-security-policy"])
    assert policy == {"object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'"}


# CORS

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_cors_closed_by_default(world: World) -> None:
    before = world.queue()
    origin = {"Origin": "https://elsewhere.example"}
    path = f"/api/v1/clinics/{world.clinic_id}/tickets"
    preflight = world.client.options(path, headers={**origin, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405  # no CORS middleware: the method is simply unknown
    read = world.client.get(f"/api/v1/clinics/{world.clinic_id}/queue", headers=origin)
    assert "access-control-allow-origin" not in read.headers
    assert world.queue() == before


def test_cors_open_to_configured_origins_only(
    settings: Settings, engine: Engine, clock: FakeClock
) -> None:
    allowed = "https://portal.dinkes.example.go.id"
    configured = settings.model_copy(update={"cors_origins": [allowed]})
    with TestClient(create_app(configured, engine=engine, clock=clock)) as client:
        world = World.build(client)
        path = f"/api/v1/clinics/{world.clinic_id}/tickets"
        preflight = client.options(path, headers={"Origin": allowed, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == allowed
        assert "access-control-allow-credentials" not in preflight.headers
        assert_always(preflight.headers)

        refused = client.options(path, headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers

        before = world.queue()
        read = client.get(f"/api/v1/clinics/{world.clinic_id}/queue", headers={"Origin": allowed})
        assert read.headers["access-control-allow-origin"] == allowed
        assert "retry-after" in read.headers["access-control-expose-headers"].lower()
        assert world.queue() == before


# Settings from the environment


@pytest.mark.parametrize(
    "raw",
    [
        "https://a.example.id, https://b.example.id",
        '["https://a.example.id","https://b.example.id"]',
    ],
)
def test_origin_lists_read_comma_separated_or_json(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("ANTREAN_CORS_ORIGINS", raw)
    monkeypatch.setenv("ANTREAN_DISPLAY_FRAME_ANCESTORS", raw)
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://a.example.id", "https://b.example.id"]
    assert settings.display_frame_ancestors == settings.cors_origins


def test_defaults_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CORS_ORIGINS", "DISPLAY_FRAME_ANCESTORS", "MAX_BODY_BYTES"):
        monkeypatch.delenv(f"ANTREAN_{name}", raising=False)
    settings = Settings(_env_file=None)
    assert settings.cors_origins == []
    assert settings.display_frame_ancestors == []
    assert settings.max_body_bytes == 64 * 1024


@pytest.mark.parametrize(
    "origin", ["https://a.example; script-src *", "'unsafe-inline'", "https://a b", ""]
)
def test_frame_ancestors_refuse_what_would_change_the_policy(origin: str) -> None:
    with pytest.raises(ValidationError):
        Settings(display_frame_ancestors=[origin], _env_file=None)
