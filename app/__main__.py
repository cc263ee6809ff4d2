"""`python -m app`: serve Antrean with the server options it wants.

permessage-deflate is off (it costs memory on every socket, and the messages are small);
proxy headers are read from the addresses in FORWARDED_ALLOW_IPS (uvicorn's own variable),
so the phone rate limit sees the real client behind a reverse proxy.
Logs are text, or one JSON object a line with ANTREAN_LOG_FORMAT=json (the Docker image's
default); ticket tokens in logged URLs are redacted either way. With PROMETHEUS_MULTIPROC_DIR
set, the workers' metrics are shared through that directory, emptied here first.
"""

import argparse
import os

import uvicorn

from app.observability import multiproc
from app.observability.logs import FORMATS, log_config


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Antrean.")
    parser.add_argument("--host", default=os.environ.get("ANTREAN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ANTREAN_PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("ANTREAN_WORKERS", "1")),
        help="server processes; more than one needs PostgreSQL and ANTREAN_REDIS_URL",
    )
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        default=os.environ.get("ANTREAN_LOG_FORMAT", "text").lower(),
        help="text (default) or json: one JSON object a line",
    )
    args = parser.parse_args()
    if args.log_format not in FORMATS:  # argparse does not check a default against choices
        parser.error(f"ANTREAN_LOG_FORMAT must be one of {', '.join(FORMATS)}")
    log_level = os.environ.get("ANTREAN_LOG_LEVEL", "info")
    metrics_dir = multiproc.directory()
    if metrics_dir is not None:
        multiproc.wipe(metrics_dir)
    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,  # clients send nothing that matters: refuse large frames
        log_config=log_config(args.log_format, log_level),
        log_level=log_level,
        # uvicorn builds every access line before the level filter drops it: below "info"
        # (the benchmarks' "warning") it does not log requests at all.
        access_log=log_level.lower() in ("trace", "debug", "info"),
    )


if __name__ == "__main__":
    main()
