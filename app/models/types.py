"""Input field types: bounded, and free of the control characters PostgreSQL refuses."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**53 - 1


# Control (Cc), format (Cf: zero-width, direction marks) and private-use (Co) characters of the
# Basic Multilingual Plane and the few astral format characters, as one character class that
# the published schema carries, so the OpenAPI refuses what the API refuses: the ranges of those
# categories in Unicode 14, the astral ones as the characters themselves (a regex escape for
# them differs between regex dialects). Planes 14 to 16 are let through: their tag characters
# spell the flags of emoji, the rest is private use, and so wide a range in the class makes
# the schema slow for clients to generate or check against. Lone surrogates (Cs) are refused
# too, though no JSON-Schema regex can name them: they are not text.
UNPRINTABLE_CLASS = (
    r"\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    r"\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ue000-\uf8ff\ufeff"
    r"\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
)
PRINTABLE_PATTERN = f"^[^{UNPRINTABLE_CLASS}]*$"
# The same, with at least one character that is not white space (a value stripped of it is
# not empty).
VISIBLE_PATTERN = f"^[^{UNPRINTABLE_CLASS}]*[^{UNPRINTABLE_CLASS}\\s][^{UNPRINTABLE_CLASS}]*$"
_UNPRINTABLE = re.compile(f"[{UNPRINTABLE_CLASS}\ud800-\udfff]")


def _printable(value: str) -> str:
    if _UNPRINTABLE.search(value):
        raise ValueError("must not contain control or invisible characters")
    return value


def _single_line(max_length: int) -> object:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


# What the schema shows of `_printable` (pydantic checks it in `_printable` itself, whose
# regex engine knows surrogates).
_PRINTABLE_SCHEMA = Field(json_schema_extra={"pattern": PRINTABLE_PATTERN})
_VISIBLE_SCHEMA = Field(json_schema_extra={"pattern": VISIBLE_PATTERN})

Name = Annotated[str, _single_line(120), AfterValidator(_printable), _VISIBLE_SCHEMA]
# Clinic codes are compared case-insensitively: kept in upper case.
Code = Annotated[
    str, _single_line(32), AfterValidator(_printable), AfterValidator(str.upper), _VISIBLE_SCHEMA
]
Text = Annotated[
    str, StringConstraints(max_length=500), AfterValidator(_printable), _PRINTABLE_SCHEMA
]
USERNAME_PATTERN = r"^[a-z0-9._@-]{3,64}$"
# Usernames are case-insensitive: kept in lower case, so `Admin` and `admin` are one account.
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._@-]{3,64}$"),
    AfterValidator(str.lower),
]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=256),
    AfterValidator(_printable),
    _PRINTABLE_SCHEMA,
]
Prefix = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{1,2}$")
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Quota = Annotated[int, Field(ge=1, le=9999)]
