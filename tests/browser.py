"""Browser tests' fixtures: Debian's Chromium driven by Playwright, against a real server.

Without Chromium or Playwright the browser tests skip, except under CI=true, where they fail.
Screenshots go to a temporary folder; `make screenshots` (ANTREAN_SCREENSHOTS=docs/screenshots)
renews the README's pictures instead, so an ordinary test run leaves the checkout unchanged.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.server import ServerProcess

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("ANTREAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # A waiting-room TV is set up to play sound without a tap; so is the test browser.
    "--autoplay-policy=no-user-gesture-required",
    # A page a test answers itself (route.fulfill, as enforce_csp does) has no address, so
    # Chromium counts it as public and refuses its WebSocket to the local test server.
    "--disable-features=LocalNetworkAccessChecks",
]
SCREENSHOTS = Path(
    os.environ.get("ANTREAN_SCREENSHOTS") or Path(tempfile.gettempdir()) / "antrean-screenshots"
)
ADMIN = ("admin", "admin-password-for-tests")
STAFF_PASSWORD = "staff-password-1"

Json = dict[str, Any]


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module; each test opens its own context.

    Not per session: Playwright's sync API keeps an event loop running in the main thread
    while it is started, and the asyncio tests that follow cannot start their own.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install playwright)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the page as <name>.png in SCREENSHOTS (docs/screenshots/ under `make screenshots`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@dataclass
class City:
    """A running server with one clinic set up through the API, as an admin would."""

    server: ServerProcess
    clinic: Json
    services: dict[str, Json]
    counters: dict[str, Json]
    kiosk_key: str
    display_key: str
    staff_username: str
    admin_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        response = httpx.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=10, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def staff_token(self) -> str:
        response = httpx.post(
            f"{self.url}/api/v1/auth/token",
            data={"username": self.staff_username, "password": STAFF_PASSWORD},
            timeout=10,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


def admin_token(url: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/token",
        data={"username": ADMIN[0], "password": ADMIN[1]},
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def build_city(server: ServerProcess) -> City:
    """Puskesmas Klandasan Ilir: Pendaftaran (A), Poli Umum (B), Poli Gigi (C, quota 2),
    Apotek (D, transfer only); Loket 1 and 2 serve A, Ruang Periksa 1 serves B."""
    token = admin_token(server.url)

    def post(path: str, body: Json) -> Json:
        response = httpx.post(
            f"{server.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()
        result: Json = response.json()
        return result

    clinic = post(
        "/clinics",
        {"code": "KLANDASAN-ILIR", "name": "Puskesmas Klandasan Ilir", "timezone": "Asia/Makassar"},
    )
    cid = clinic["id"]
    services = {
        "A": post(f"/clinics/{cid}/services", {"name": "Pendaftaran", "prefix": "A"}),
        "B": post(
            f"/clinics/{cid}/services",
            {"name": "Poli Umum", "prefix": "B", "target_wait_minutes": 30},
        ),
        "C": post(
            f"/clinics/{cid}/services", {"name": "Poli Gigi", "prefix": "C", "daily_quota": 2}
        ),
        "D": post(f"/clinics/{cid}/services", {"name": "Apotek", "prefix": "D", "entry": False}),
    }
    counters = {
        "Loket 1": post(
            f"/clinics/{cid}/counters", {"name": "Loket 1", "service_ids": [services["A"]["id"]]}
        ),
        "Loket 2": post(
            f"/clinics/{cid}/counters", {"name": "Loket 2", "service_ids": [services["A"]["id"]]}
        ),
        "Ruang Periksa 1": post(
            f"/clinics/{cid}/counters",
            {"name": "Ruang Periksa 1", "service_ids": [services["B"]["id"], services["D"]["id"]]},
        ),
    }
    kiosk = post(f"/clinics/{cid}/devices", {"name": "Kios pintu masuk", "kind": "kiosk"})
    display = post(f"/clinics/{cid}/devices", {"name": "TV ruang tunggu", "kind": "display"})
    post(
        "/users",
        {"username": "loket1", "password": STAFF_PASSWORD, "role": "staff", "clinic_id": cid},
    )
    return City(
        server=server,
        clinic=clinic,
        services=services,
        counters=counters,
        kiosk_key=kiosk["key"],
        display_key=display["key"],
        staff_username="loket1",
        admin_token=token,
    )


def start_server(tmp_path: Path) -> ServerProcess:
    server = ServerProcess(
        {
            "ANTREAN_DATABASE_URL": f"sqlite:///{tmp_path / 'antrean.db'}",
            "ANTREAN_ADMIN_USERNAME": ADMIN[0],
            "ANTREAN_ADMIN_PASSWORD": ADMIN[1],
            "ANTREAN_REMOTE_TICKET_RATE": "1000/minute",
        }
    )
    server.start()
    return server


@pytest.fixture
def city(tmp_path: Path) -> Iterator[City]:
    """A fresh server and clinic per test: pages see exactly what the test set up."""
    server = start_server(tmp_path)
    try:
        yield build_city(server)
    finally:
        server.stop()


# The policy the server is to send: no inline script, no inline style, nothing from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; media-src 'self'; frame-ancestors 'self'"
)
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") +
    " " + (event.sourceFile || "") + ":" + (event.lineNumber || 0));
});
"""


def enforce_csp(context: Any) -> None:
    """Every page this browser context loads gets CSP (as the server will send it), and keeps
    what the browser refused in window.__cspViolations (see csp_violations)."""

    def add_policy(route: Any) -> None:
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": CSP},
        )

    context.route("**/*", add_policy)
    context.add_init_script(_RECORD_VIOLATIONS)


def csp_violations(page: Any) -> list[str]:
    """What CSP refused on this page and in its frames so far."""
    found: list[str] = []
    for frame in page.frames:
        try:
            found += frame.evaluate("() => window.__cspViolations || []")
        except Exception:  # a frame that went away meanwhile
            continue
    return found
