"""python -m app.bpjs.fake --port 8099 [--cons-id X --secret Y --user-key Z]: a stand-in BPJS
Antrean FKTP at http://HOST:PORT (the base URL to give the clinic's bridge)."""

import argparse
import json
from pathlib import Path

import uvicorn

from app.bpjs.fake import DEFAULT_CONSUMER, Consumer, FakeBpjs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.bpjs.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--cons-id", default=DEFAULT_CONSUMER.cons_id)
    parser.add_argument("--secret", default=DEFAULT_CONSUMER.cons_secret)
    parser.add_argument("--user-key", default=DEFAULT_CONSUMER.user_key)
    parser.add_argument(
        "--reference",
        type=Path,
        help='a JSON file {"poli": [...], "dokter": {"001": [...]}} replacing the built-in lists',
    )
    parser.add_argument("--shape", choices=["list", "array"], default="list")
    parser.add_argument(
        "--strict", action="store_true", help="refuse panggil/batal of an antrean it never saw"
    )
    args = parser.parse_args(argv)
    reference = json.loads(args.reference.read_text()) if args.reference else {}
    fake = FakeBpjs(
        [Consumer(args.cons_id, args.secret, args.user_key)],
        poli=reference.get("poli"),
        dokter=reference.get("dokter"),
        shape=args.shape,
        strict=args.strict,
    )
    uvicorn.run(fake.app, host=args.host, port=args.port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
