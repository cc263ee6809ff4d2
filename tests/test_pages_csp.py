"""Every page works under the Content-Security-Policy the server is to send (script-src and
style-src 'self', no 'unsafe-inline'): nothing is refused, and each page gets past its start."""

from typing import Any

from playwright.sync_api import expect

from tests.browser import ADMIN, CSP, STAFF_PASSWORD, City, csp_violations, enforce_csp


def test_every_page_runs_under_the_coming_csp(browser: Any, city: City) -> None:
    cid = city.clinic["id"]
    seen: dict[str, list[str]] = {}
    contexts: list[Any] = []

    def fresh() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        enforce_csp(context)
        return context.new_page()

    page = fresh()
    page.goto(f"{city.url}/")
    expect(page.locator(f"a[href='/kiosk/{cid}']")).to_be_visible()
    seen["index"] = csp_violations(page)

    # The kiosk: its key, a ticket, and the printed ticket in its frame.
    page = fresh()
    page.goto(f"{city.url}/kiosk/{cid}")
    page.fill("#kiosk-key-input", city.kiosk_key)
    page.click("#kiosk-key-submit")
    page.click(f"[data-service-id='{city.services['A']['id']}']")
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-001")
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-001")
    page.wait_for_timeout(500)  # the print page's own script has run (load)
    seen["kiosk and print"] = csp_violations(page)

    page = fresh()
    page.goto(f"{city.url}/display/{cid}?voice=clips")
    page.wait_for_function("() => window.AntreanDisplay && AntreanDisplay.snapshots >= 1")
    seen["display"] = csp_violations(page)

    page = fresh()
    page.goto(f"{city.url}/take/{cid}")
    page.click(f"[data-service-id='{city.services['B']['id']}']")
    page.wait_for_url("**/t/*")
    expect(page.locator("#ticket-code")).to_have_text("B-001")
    seen["take and ticket"] = csp_violations(page)

    page = fresh()
    page.goto(f"{city.url}/staff")
    page.fill("#login-username", city.staff_username)
    page.fill("#login-password", STAFF_PASSWORD)
    page.click("#login-submit")
    page.click(f"[data-counter-id='{city.counters['Loket 1']['id']}']")
    page.click("#btn-next")
    expect(page.locator("#current-code")).to_have_text("A-001")
    seen["staff"] = csp_violations(page)

    for path, shown in (("/admin", "#clinic-list"), ("/office", "#report-table")):
        page = fresh()
        page.goto(f"{city.url}{path}")
        page.fill("#login-username", ADMIN[0])
        page.fill("#login-password", ADMIN[1])
        page.click("#login-submit")
        expect(page.locator(shown)).to_be_visible()
        page.wait_for_timeout(300)
        seen[path] = csp_violations(page)

    for context in contexts:
        context.close()
    assert {name: found for name, found in seen.items() if found} == {}


def test_a_refused_inline_script_or_style_is_seen(browser: Any, city: City) -> None:
    # The check above can fail: under the policy an inline script and an inline style are
    # refused, and reported.
    context = browser.new_context()
    enforce_csp(context)
    page = context.new_page()
    page.route(
        "**/inline-probe",
        lambda route: route.fulfill(
            content_type="text/html",
            headers={"content-security-policy": CSP},
            body="<!doctype html><p>x</p><script>document.title = 'ran'</script>"
            '<p style="color: red">y</p>',
        ),
    )
    page.goto(f"{city.url}/inline-probe")
    page.wait_for_timeout(200)
    assert page.title() != "ran"
    found = csp_violations(page)
    assert any("script-src" in line for line in found), found
    assert any("style-src" in line for line in found), found
    context.close()
