"""Logging for `python -m app`: uvicorn's lines and ours, as text or one JSON object a line,
and never a ticket's secret token (it travels in the query of /t/{id} and /ws/tickets/{id}).

JSON is a small stdlib Formatter rather than a dependency: a handful of fixed fields.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote_plus

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
REDACTED = "REDACTED"
SECRET_PARAMETERS = frozenset({"token"})

# One query parameter: after ? or &, a name, =, a value.
_PARAMETER = re.compile(r"(?<=[?&])([^=&#\s\"']+)=([^&#\s\"']*)")


def redact(text: str) -> str:
    """`/t/5?token=abc&lang=en` -> `/t/5?token=REDACTED&lang=en` (names compared decoded)."""
    if "=" not in text:
        return text

    def hide(match: re.Match[str]) -> str:
        if unquote_plus(match.group(1)).lower() in SECRET_PARAMETERS:
            return f"{match.group(1)}={REDACTED}"
        return match.group(0)

    return _PARAMETER.sub(hide, text)


class RedactTokens(logging.Filter):
    """On a handler: scrubs every record that passes, whichever logger made it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...}`; uvicorn's access lines add client,
    method, path, http_version and status (uvicorn writes them as the response starts, so
    there is no duration: the latency histogram at /metrics has it)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            if len(record.args) == 5:
                client, method, path, http_version, status = record.args
                entry.update(
                    client=client,
                    method=method,
                    path=path,
                    http_version=http_version,
                    status=status,
                )
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A dictConfig for uvicorn: its loggers as uvicorn sets them up (access lines on stdout,
    the rest on stderr), ours ("antrean", "app.*") at `level`, everyone else's warnings."""
    if log_format == "json":
        formatters: dict[str, Any] = {
            "default": {"()": JsonFormatter},
            "access": {"()": JsonFormatter},
            "ours": {"()": JsonFormatter},
        }
    else:
        formatters = {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
            "ours": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(name)s: %(message)s",
            },
        }
    level = level.upper()

    def handler(formatter: str, stream: str) -> dict[str, Any]:
        return {
            "class": "logging.StreamHandler",
            "formatter": formatter,
            "filters": ["redact"],
            "stream": stream,
        }

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactTokens}},
        "formatters": formatters,
        "handlers": {
            "default": handler("default", "ext://sys.stderr"),
            "access": handler("access", "ext://sys.stdout"),
            "ours": handler("ours", "ext://sys.stderr"),
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "antrean": {"level": level},
            "app": {"level": level},
        },
        "root": {"handlers": ["ours"], "level": "WARNING"},
    }
