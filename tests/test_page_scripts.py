"""The pages' scripts decide by an error's stable `code`, never by its English `detail`, and
every code a page may receive has words in both languages; nothing runs or styles inline, so
a Content-Security-Policy without 'unsafe-inline' breaks no page. (No browser needed.)"""

import re
from pathlib import Path

import pytest

from app.web.i18n import LANGUAGES, page_messages
from tests.server import ROOT

WEB = ROOT / "app" / "web"
SCRIPTS = WEB / "static" / "js"
TEMPLATES = WEB / "templates"

# The stable codes of error bodies (docs/errors.md): the contract the pages are written to.
CONTRACT = {
    "invalid_input", "service_of_other_clinic",
    "not_authenticated", "invalid_credentials", "account_disabled", "invalid_ticket_token",
    "forbidden", "device_not_allowed", "admin_only", "clinic_admin_only", "other_clinic",
    "remote_tickets_off",
    "not_found", "clinic_not_found", "service_not_found", "counter_not_found", "ticket_not_found",
    "user_not_found", "device_not_found",
    "method_not_allowed", "body_too_large", "unsupported_media_type", "rate_limited", "unavailable",
    "conflict", "illegal_transition", "service_closed", "transfer_only_service", "quota_full",
    "same_service", "idempotency_key_reused", "username_taken", "own_account",
    "counter_name_taken", "prefix_taken", "prefix_in_use_today", "clinic_code_taken",
    "outbox_row_not_found", "outbox_row_not_failed", "bpjs_poli_code_taken",
    "bpjs_not_configured", "bpjs_refused", "bpjs_unavailable",
}  # fmt: skip

# What a page may show for a failed call, by code. Codes a page acts on without words stay
# out: a 401 ends a staff, admin or office session ("common.session_expired"); a kiosk whose
# key is refused (401, or 403 device_not_allowed, other_clinic) goes back to its key form; the
# take page quietly forgets a ticket that is gone (invalid_ticket_token, ticket_not_found).
SERVER_TROUBLE = {"rate_limited", "unavailable", "body_too_large", "unsupported_media_type",
                  "method_not_allowed"}  # fmt: skip
TAKING = {
    "quota_full", "service_closed", "transfer_only_service", "service_not_found",
    "clinic_not_found", "service_of_other_clinic", "idempotency_key_reused", "conflict",
    "invalid_input",
}  # fmt: skip
SHOWN: dict[tuple[str, str], set[str]] = {
    # (page, the scope its script passes to A.errorText): codes
    ("staff", "common.login"): {"invalid_credentials", "account_disabled", "rate_limited",
                                "invalid_input", "unavailable"},  # fmt: skip
    ("kiosk", "kiosk"): TAKING | SERVER_TROUBLE | {"not_found"},
    ("take", "take"): TAKING | SERVER_TROUBLE | {"remote_tickets_off", "forbidden", "not_found"},
    ("ticket", "ticket"): {"illegal_transition", "ticket_not_found", "invalid_ticket_token",
                           "not_found"} | SERVER_TROUBLE,  # fmt: skip
    ("staff", "staff"): {
        "illegal_transition", "same_service", "service_closed", "quota_full",
        "transfer_only_service", "ticket_not_found", "service_not_found", "counter_not_found",
        "clinic_not_found", "service_of_other_clinic", "other_clinic", "forbidden",
        "device_not_allowed", "conflict", "invalid_input", "idempotency_key_reused", "not_found",
    } | SERVER_TROUBLE,
    ("admin", "admin"): {
        "clinic_code_taken", "prefix_taken", "prefix_in_use_today", "counter_name_taken",
        "username_taken", "own_account", "conflict", "service_of_other_clinic", "invalid_input",
        "clinic_not_found", "service_not_found", "counter_not_found", "user_not_found",
        "device_not_found", "not_found", "admin_only", "clinic_admin_only", "other_clinic",
        "forbidden", "device_not_allowed", "outbox_row_not_found", "outbox_row_not_failed",
        "bpjs_poli_code_taken", "bpjs_not_configured", "bpjs_refused", "bpjs_unavailable",
    } | SERVER_TROUBLE,
    ("office", "office"): {
        "admin_only", "clinic_admin_only", "other_clinic", "forbidden", "device_not_allowed",
        "invalid_input", "clinic_not_found", "service_not_found", "not_found",
    } | SERVER_TROUBLE,
}  # fmt: skip
# The pages whose scripts read the API and say what went wrong (display reads nothing).
PAGES_WITH_ERRORS = {"kiosk", "take", "ticket", "staff", "admin", "office"}


def _source(path: Path) -> str:
    return path.read_text("utf-8")


def _without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(?<![:\\\"'])//.*$", "", source, flags=re.MULTILINE)


# `.detail`, `["detail"]`, or a `detail` taken apart: any read of an error body's detail.
DETAIL_READ = re.compile(r"""\.\s*detail\b|\[\s*["']detail["']\s*\]|\{\s*detail\s*\}\s*=""")
# The one reader allowed: common.js's A.fieldErrors (an invalid_input's loc and type).
FIELD_HELPER = re.compile(r"A\.fieldErrors = function \(data\) \{.*?\n  \};", re.DOTALL)


def detail_reads(name: str, source: str) -> list[str]:
    """Each line of a script that reads an error body's detail outside A.fieldErrors."""
    code = _without_comments(source)
    if name == "common.js":
        code = FIELD_HELPER.sub("", code, count=1)
    return [line.strip() for line in code.splitlines() if DETAIL_READ.search(line)]


def test_the_check_finds_a_detail_read_and_allows_the_field_list_helper() -> None:
    assert detail_reads("x.js", "if (/quota/.test(error.detail)) show();") != []
    assert detail_reads("x.js", 'var d = data["detail"];') != []
    assert detail_reads("x.js", "/* error.detail */ show(error.code);") == []
    assert detail_reads("x.js", '$("#clinic-detail").hidden = true;') == []
    common = _source(SCRIPTS / "common.js")
    assert FIELD_HELPER.search(common), "A.fieldErrors is gone or reshaped: update this test"
    assert "data.detail" in FIELD_HELPER.search(common).group(0)  # type: ignore[union-attr]


def test_no_page_script_reads_an_error_detail_outside_the_field_list_helper() -> None:
    scripts = sorted(SCRIPTS.glob("*.js"))
    assert len(scripts) >= 9
    found = {path.name: detail_reads(path.name, _source(path)) for path in scripts}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_field_list_helper_keeps_loc_and_type_never_msg() -> None:
    helper = FIELD_HELPER.search(_source(SCRIPTS / "common.js")).group(0)  # type: ignore[union-attr]
    assert "loc" in helper
    assert "type" in helper
    assert "msg" not in _without_comments(helper)
    for path in SCRIPTS.glob("*.js"):
        assert not re.search(r"\.\s*msg\b", _without_comments(_source(path))), path.name


def test_no_message_shows_the_server_detail() -> None:
    for page in ("common", *sorted(PAGES_WITH_ERRORS)):
        for language in LANGUAGES:
            for key, text in page_messages(language, page).items():
                assert "{detail}" not in text, (language, key)


def test_pages_word_every_code_they_may_receive_in_both_languages() -> None:
    missing = []
    for (page, scope), codes in SHOWN.items():
        assert codes <= CONTRACT, codes - CONTRACT
        for language in LANGUAGES:
            messages = page_messages(language, page)
            for code in sorted(codes):
                keys = [f"{scope}.code.{code}", f"common.code.{code}"]
                if not any(key in messages for key in keys):
                    missing.append(f"{language} {page}: {keys[0]}")
    assert missing == []


def test_each_page_script_words_its_errors_in_its_own_scope() -> None:
    for (page, scope), _codes in SHOWN.items():
        script = "common.js" if scope == "common.login" else f"{page}.js"
        call = rf"""errorText\([^;]*["']{re.escape(scope)}["']"""
        assert re.search(call, _source(SCRIPTS / script)), (script, scope)


def test_every_status_class_has_a_fallback_in_both_languages() -> None:
    for language in LANGUAGES:
        messages = page_messages(language, "common")
        for key in ("common.http.4xx", "common.http.5xx", "common.network_error"):
            assert key in messages, (language, key)
        for status in (400, 401, 403, 404, 409, 422, 429):
            assert f"common.http.{status}" in messages, (language, status)


def test_message_keys_name_only_codes_of_the_contract() -> None:
    for page in ("common", *sorted(PAGES_WITH_ERRORS), "display"):
        for key in page_messages("id", page):
            match = re.search(r"\.code\.(\w+)$", key)
            if match:
                assert match.group(1) in CONTRACT, key


def test_the_contract_covers_every_code_the_service_has() -> None:
    from app import main  # noqa: F401 (defines every error class)
    from app.errors import STARLETTE_CODES, error_classes

    known = {cls.code for cls in error_classes()} | set(STARLETTE_CODES.values())
    # "bad_request" and "error" are fallbacks no route answers with (a 400 is invalid_input).
    assert known - {"bad_request", "error"} <= CONTRACT


# ---- no inline script or style: the CSP will be script-src 'self', style-src 'self' ----

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"""<[^>]*\son[a-z]+\s*=""", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_style_or_handler(template: str) -> None:
    html = _source(TEMPLATES / template)
    for attributes in SCRIPT_TAG.findall(html):
        is_data = re.search(r"""type\s*=\s*["']application/json["']""", attributes)
        assert "src=" in attributes or is_data, f"inline <script{attributes}>"
    assert not re.search(r"<style\b", html, re.IGNORECASE)
    assert not re.search(r"""\sstyle\s*=""", html, re.IGNORECASE)
    assert not EVENT_ATTRIBUTE.search(html)
    assert "javascript:" not in html.lower()


def test_scripts_make_no_inline_script_or_style() -> None:
    forbidden = {
        "a <style> or <script> element": r"""createElement\(\s*["'](style|script)["']""",
        "a style attribute": r"""setAttribute\(\s*["']style["']|["']style["']\s*:""",
        "markup from a string": r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write",
        "code from a string": r"\beval\(|new Function\(|set(Timeout|Interval)\(\s*[\"']",
        "a javascript: URL": r"(?i)javascript:",
    }
    problems = []
    for path in sorted(SCRIPTS.glob("*.js")):
        source = _without_comments(_source(path))
        problems += [
            f"{path.name}: {what}" for what, rule in forbidden.items() if re.search(rule, source)
        ]
    assert problems == []
