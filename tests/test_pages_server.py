"""The pages as the server renders them: languages, unknown addresses, the ticket's secrecy,
the printed ticket, and the rules every page's files keep (catalogs, old-browser JavaScript)."""

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.web.i18n import CATALOG_DIR, LANGUAGES
from tests.world import World

WEB = Path(__file__).resolve().parent.parent / "app" / "web"
TEMPLATES = WEB / "templates"
SCRIPTS = WEB / "static" / "js"


def html(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_every_page_speaks_indonesian_by_default_and_english_by_the_switch(world: World) -> None:
    cid = world.clinic_id
    ticket = world.take()
    pages = [
        "/",
        f"/kiosk/{cid}",
        f"/display/{cid}",
        f"/take/{cid}",
        f"/t/{ticket['id']}?token={ticket['token']}",
        f"/t/{ticket['id']}/print?token={ticket['token']}",
        "/staff",
        "/admin",
    ]
    for path in pages:
        assert '<html lang="id">' in html(world.client, path)
    for path in pages:
        separator = "&" if "?" in path else "?"
        assert '<html lang="en">' in html(world.client, f"{path}{separator}lang=en")
    # The switch is remembered by the browser: the next page, without ?lang=, stays English.
    assert '<html lang="en">' in html(world.client, f"/display/{cid}")
    assert '<html lang="id">' in html(world.client, f"/display/{cid}?lang=id")
    assert '<html lang="id">' in html(world.client, f"/display/{cid}?lang=xx")


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "1.5", "99999999999", "٣", "2147483648"])
def test_an_unknown_or_malformed_clinic_gets_the_not_found_page(world: World, raw: str) -> None:
    for page in ("kiosk", "display", "take"):
        text = html(world.client, f"/{page}/{raw}", status=404)
        assert "Halaman tidak ditemukan" in text


def test_a_ticket_page_needs_the_ticket_own_token_and_a_wrong_one_reveals_nothing(
    world: World,
) -> None:
    ticket = world.take()
    other = world.take()
    good = html(world.client, f"/t/{ticket['id']}?token={ticket['token']}")
    assert ticket["code"] in good
    assert ticket["token"] in good  # the page's own script needs it for the ticket feed
    not_found = [
        f"/t/{ticket['id']}",
        f"/t/{ticket['id']}?token=",
        f"/t/{ticket['id']}?token={other['token']}",
        f"/t/{ticket['id']}?token={'x' * 500}",
        f"/t/999999999?token={ticket['token']}",
        f"/t/abc?token={ticket['token']}",
        f"/t/{ticket['id']}/print?token={other['token']}",
        f"/t/{ticket['id']}/print",
    ]
    # A wrong token looks exactly like a ticket that does not exist (the language switch
    # links back to the address asked for, so it is left out of the comparison).
    switch = re.compile(r'class="lang-switch" href="[^"]*"')
    bodies = {switch.sub("", html(world.client, path, status=404)) for path in not_found}
    assert len(bodies) == 1


def test_the_printed_ticket_carries_the_clinic_service_code_and_a_qr_to_the_phone_page(
    world: World,
) -> None:
    world.take()
    ticket = world.take(priority="elderly")
    text = html(world.client, f"/t/{ticket['id']}/print?token={ticket['token']}&paper=80")
    assert world.clinic["name"] in text
    assert "Pendaftaran" in text
    assert ticket["code"] in text
    assert "<svg" in text
    assert f"/t/{ticket['id']}?token={ticket['token']}" in text


def test_the_qr_points_at_the_public_address_when_one_is_configured(world: World) -> None:
    world.client.app.state.settings.public_url = "https://antrean.balikpapan.go.id/"  # type: ignore[attr-defined]
    ticket = world.take()
    text = html(world.client, f"/t/{ticket['id']}/print?token={ticket['token']}")
    assert f"https://antrean.balikpapan.go.id/t/{ticket['id']}?token={ticket['token']}" in text


def test_whoami_tells_a_kiosk_from_a_display_from_a_user(world: World) -> None:
    me = world.client.get("/api/v1/auth/me", headers=world.kiosk).json()
    assert me["kind"] == "device"
    assert me["device_kind"] == "kiosk"
    assert me["clinic_id"] == world.clinic_id
    display = world.client.get("/api/v1/auth/me", headers=world.display).json()
    assert display["device_kind"] == "display"
    staff = world.client.get("/api/v1/auth/me", headers=world.staff).json()
    assert staff["kind"] == "user"
    assert staff["role"] == "staff"
    assert staff["clinic_id"] == world.clinic_id
    assert world.client.get("/api/v1/auth/me").status_code == 401
    bad = {"Authorization": "Bearer dk_1_wrong"}
    assert world.client.get("/api/v1/auth/me", headers=bad).status_code == 401


def test_services_tell_the_kiosk_how_many_numbers_were_given_today(world: World) -> None:
    for _ in range(3):
        world.take("C")
    ticket = world.take("A")
    world.call("Loket 1")
    world.act(ticket, "transfer", service_id=world.services["B"]["id"])
    listed = world.client.get(f"/api/v1/clinics/{world.clinic_id}/services").json()
    issued = {service["prefix"]: service["issued_today"] for service in listed}
    # A transfer gives no new number: B stays at 0; C is at its quota of 3.
    assert issued == {"A": 1, "B": 0, "C": 3, "D": 0}
    assert world.take_response("C").status_code == 409


def _catalog_files() -> dict[str, dict[str, dict[str, str]]]:
    """{page: {language: messages}}"""
    pages: dict[str, dict[str, dict[str, str]]] = {}
    for language in LANGUAGES:
        for path in sorted((CATALOG_DIR / language).glob("*.json")):
            pages.setdefault(path.stem, {})[language] = json.loads(path.read_text("utf-8"))
    return pages


def test_every_catalog_exists_in_both_languages_with_the_same_keys_and_placeholders() -> None:
    pages = _catalog_files()
    assert {"common", "kiosk", "display", "ticket", "take", "staff", "admin"} <= set(pages)
    for page, by_language in pages.items():
        assert set(by_language) == set(LANGUAGES), page
        indonesian, english = by_language["id"], by_language["en"]
        assert set(indonesian) == set(english), page
        for key, text in indonesian.items():
            assert key.startswith(f"{page}."), key
            assert text.strip(), key
            assert sorted(re.findall(r"\{(\w+)\}", text)) == sorted(
                re.findall(r"\{(\w+)\}", english[key])
            ), key


def test_every_literal_message_key_used_by_a_page_is_in_its_catalogs() -> None:
    known = {key for by_language in _catalog_files().values() for key in by_language["id"]}
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\(\s*['\"]([a-z0-9_.]+)['\"]", template.read_text("utf-8")))
    for script in SCRIPTS.glob("*.js"):
        used |= set(re.findall(r"\.t\(\s*['\"]([a-z0-9_.]+)['\"]", script.read_text("utf-8")))
    # Keys that end in "." are prefixes completed at run time (e.g. "common.status." + status).
    missing = {key for key in used if not key.endswith(".") and key not in known}
    assert not missing


NEWER_THAN_ES2015 = {
    "async function": re.compile(r"\basync\s+(function\b|\(|[A-Za-z_$][\w$]*\s*=>)"),
    "await": re.compile(r"\bawait\s"),
    "optional chaining": re.compile(r"\?\.[A-Za-z_$\[(]"),
    "nullish coalescing": re.compile(r"\?\?"),
    "modules": re.compile(r"^\s*(import|export)\s", re.MULTILINE),
}


def _without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(?<![:\\\"'])//.*$", "", source, flags=re.MULTILINE)


def test_page_scripts_stay_within_what_an_older_tv_browser_runs() -> None:
    for script in SCRIPTS.glob("*.js"):
        source = _without_comments(script.read_text("utf-8"))
        for feature, pattern in NEWER_THAN_ES2015.items():
            assert not pattern.search(source), f"{script.name} uses {feature}"


def test_pages_fetch_nothing_from_the_internet() -> None:
    external = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)
    imports = re.compile(r"""@import|url\(\s*["']?(https?:)?//""", re.IGNORECASE)
    for path in list(TEMPLATES.glob("*.html")) + list(SCRIPTS.glob("*.js")):
        assert not external.search(path.read_text("utf-8")), path.name
    for path in (WEB / "static" / "css").glob("*.css"):
        assert not imports.search(path.read_text("utf-8")), path.name


def test_every_picture_the_readme_shows_exists() -> None:
    readme = (WEB.parent.parent / "README.md").read_text("utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert len(pictures) >= 7
    for picture in pictures:
        assert (WEB.parent.parent / picture).is_file(), picture
