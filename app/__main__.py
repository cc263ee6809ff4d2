"""`python -m app`: serve Antrean with the server options it wants.

permessage-deflate is off (it costs memory on every socket, and the messages are small);
proxy headers are read from the addresses in FORWARDED_ALLOW_IPS (uvicorn's own variable),
so the phone rate limit sees the real client behind a reverse proxy.
"""

import argparse
import os

import uvicorn


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
    args = parser.parse_args()
    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,  # clients send nothing that matters: refuse large frames
        log_level=os.environ.get("ANTREAN_LOG_LEVEL", "info"),
    )


if __name__ == "__main__":
    main()
