"""Message catalogs: every word a page shows, in Bahasa Indonesia (default) and English.

Catalogs are JSON files, `i18n/<language>/<page>.json`, flat keys named `<page>.<what>`.
A page gets `common` plus its own catalog, rendered into the HTML for its JavaScript.

Errors are worded by their stable `code` (docs/errors.md), never by the server's English
`detail`: `<scope>.code.<code>` (a page's own words, e.g. `kiosk.code.quota_full`), else
`common.code.<code>`; an answer whose code the page does not know falls back by status,
`<scope>.http.<status>`, `common.http.<status>`, then `common.http.4xx` or `common.http.5xx`
(common.js, `Antrean.errorText`). A `{wait}` in such a message says when to try again, from
the answer's Retry-After (`common.retry_in`, `common.retry_soon`).
"""

import json
import re
from functools import cache
from pathlib import Path

from fastapi import Request

CATALOG_DIR = Path(__file__).parent / "i18n"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANGUAGE_COOKIE = "antrean_lang"

Catalog = dict[str, str]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def catalog(language: str, page: str) -> Catalog:
    """One page's messages in one language (empty when the page has no catalog)."""
    path = CATALOG_DIR / language / f"{page}.json"
    if not path.exists():
        return {}
    messages: Catalog = json.loads(path.read_text(encoding="utf-8"))
    return messages


def page_messages(language: str, page: str) -> Catalog:
    return {**catalog(language, "common"), **catalog(language, page)}


def translate(messages: Catalog, key: str, **params: object) -> str:
    """The message for key with {placeholders} filled; the key itself if it is missing."""
    text = messages.get(key, key)
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), text)


def pick_language(request: Request) -> str:
    """`?lang=` first (the switch), then the remembered cookie, then Bahasa Indonesia."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
