"""The queue benchmark A/B: this checkout against an earlier commit, alternating on one machine.

A shared machine's speed drifts over minutes, so two separate runs of bench/queue_api.py can
differ by more than a change does. This runs the same load (bench.queue_api.run) against a
server of each tree in turn, `--rounds` times, each on a fresh database (the order within a
round alternating: base first, then this tree first), and prints every round, the median per
tree and their ratio. The earlier tree is checked out with `git worktree`.

    .venv/bin/python -m bench.queue_ab --base 54bdf32 [--db sqlite|postgresql] [--rounds 4]
"""

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.queue_api import run
from bench.servers import ROOT, ScratchPostgres, Server


def checkout(revision: str, into: Path) -> Path:
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--force", str(into), revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return into


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the earlier commit to compare against")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--counters", type=int, default=4)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        trees = {args.base: checkout(args.base, Path(tmp) / "base"), "this tree": ROOT}
        rates: dict[str, list[float]] = {name: [] for name in trees}
        print(
            f"{args.db}: {args.tickets} tickets, {args.clients} kiosks, {args.counters} "
            f"counters; tickets issued and called per second"
        )
        try:
            for round_ in range(1, args.rounds + 1):
                # ABBA: the machine's drift within a round favours neither tree.
                order = list(enumerate(trees.items()))
                for tree, (name, root) in order if round_ % 2 else order[::-1]:
                    postgres = None
                    if args.db == "sqlite":
                        url = f"sqlite:///{tmp}/round-{round_}-tree-{tree}.db"
                    else:
                        postgres = ScratchPostgres(args.postgres, "antrean_bench_ab")
                        url = postgres.url
                    server = Server(url, root=root)
                    try:
                        _, elapsed = run(server.base, args.tickets, args.clients, args.counters)
                    finally:
                        server.stop()
                        if postgres is not None:
                            postgres.drop()
                    rates[name].append(args.tickets / elapsed)
                    print(f"  round {round_} {name:<12}{rates[name][-1]:>8.1f}", flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(trees[args.base])],
                cwd=ROOT,
                check=False,
            )
    base, this = (statistics.median(rates[name]) for name in trees)
    paired = statistics.median(t / b for b, t in zip(*rates.values(), strict=True))
    print(
        f"median: {args.base} {base:.1f}, this tree {this:.1f}; this/base {this / base:.2f} "
        f"(median of the rounds' own ratios {paired:.2f})"
    )


if __name__ == "__main__":
    main()
