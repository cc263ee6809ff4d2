"""Input field types: bounded, and free of the control characters PostgreSQL refuses."""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**53 - 1


# Control (C0/C1), format (zero-width, direction marks), surrogate, private and unassigned.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) in _UNPRINTABLE for ch in value):
        raise ValueError("must not contain control or invisible characters")
    return value


def _single_line(max_length: int) -> object:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Name = Annotated[str, _single_line(120), AfterValidator(_printable)]
# Clinic codes are compared case-insensitively: kept in upper case.
Code = Annotated[str, _single_line(32), AfterValidator(_printable), AfterValidator(str.upper)]
Text = Annotated[str, StringConstraints(max_length=500), AfterValidator(_printable)]
USERNAME_PATTERN = r"^[a-z0-9._@-]{3,64}$"
# Usernames are case-insensitive: kept in lower case, so `Admin` and `admin` are one account.
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._@-]{3,64}$"),
    AfterValidator(str.lower),
]
Password = Annotated[
    str, StringConstraints(min_length=8, max_length=256), AfterValidator(_printable)
]
Prefix = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{1,2}$")
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Quota = Annotated[int, Field(ge=1, le=9999)]
