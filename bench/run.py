"""Benchmarks: pages and reports at scale, on SQLite and (when it answers) PostgreSQL.

    make bench                       # both databases, default sizes
    .venv/bin/python bench/run.py --changes 1000000 --database sqlite
    .venv/bin/python bench/run.py --only members --scale medium

Builds a separate benchmark database (``var/bench.sqlite3`` or the
``gremio_bench`` PostgreSQL database), fills it with bulk inserts, then
requests each page through Django's test client: the median and 95th
percentile of the wall time, and the number of SQL queries, are printed.
Each module adds its group (data and pages) to ``GROUPS`` in cases.py as its
issue lands; the members group loads the members demo step at ``--scale``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASES = {
    "sqlite": f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}",
    "postgres": os.environ.get(
        "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/gremio_bench"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=[*DATABASES, "all"], default="all")
    parser.add_argument("--changes", type=int, default=1_000_000, help="change-log rows to create")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--scale", choices=["small", "medium", "ccij"], default="ccij", help="members demo scale"
    )
    parser.add_argument("--only", nargs="+", metavar="GROUP", help="e.g. core members")
    parser.add_argument("--rebuild", action="store_true", help="drop and refill the benchmark data")
    args = parser.parse_args()
    names = list(DATABASES) if args.database == "all" else [args.database]
    for name in names:
        env = {
            **os.environ,
            "DATABASE_URL": DATABASES[name],
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        }
        command = [
            sys.executable,
            str(Path(__file__).resolve().parent / "cases.py"),
            name,
            str(args.changes),
            str(args.repeat),
            f"--scale={args.scale}",
        ]
        if args.only:
            command += ["--only", *args.only]
        if args.rebuild:
            command.append("--rebuild")
        result = subprocess.run(command, env=env, check=False)
        if result.returncode:
            print(f"{name}: benchmark failed (exit {result.returncode})")


if __name__ == "__main__":
    main()
