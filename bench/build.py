"""Benchmark `sandbox build` against a plain sqlite3 executemany of the same rows.

For each size, the default scenario is scaled to that many transactions and built in a
child process (so its peak memory is its own). The baseline then writes the same number
of rows, of the same shape (same tables, same column types and byte lengths, same
indexes), with nothing but executemany. Both chains: the world's Tron tables are in the
rows and in the baseline; `tron txs` is the Tron transactions of the world (the default
scenario's tron_transactions, not scaled). Prints seconds, rows per second and the ratio.

    python bench/build.py                    # ~100,000 and ~1,000,000 transactions
    python bench/build.py --sizes 100000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worlds import build_script  # noqa: E402

from sandbox.world.schema import create_indexes, create_tables  # noqa: E402

LEDGER_TABLES = ("blocks", "transactions", "inputs", "outputs", "addresses", "flow_events")
TRON_TABLES = ("tron_blocks", "tron_txs", "tron_logs", "trc20_transfers", "tron_accounts")
TRON_TABLES += ("tron_state", "tron_flow_events")


def build_in_child(transactions: int, out: Path) -> tuple[float, int]:
    """Build the scaled default world in a child process; (seconds, peak RSS bytes)."""
    code = build_script(out, transactions)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"build of {transactions} transactions failed:\n{result.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return float(result.stdout.strip().splitlines()[-1]), max(peak_kib, before) * 1024


def row_shapes(world: Path) -> dict[str, tuple[int, list[str], list[int]]]:
    """Per chain table: row count, column types and average byte length of each column."""
    conn = sqlite3.connect(world)
    shapes = {}
    for table in LEDGER_TABLES + TRON_TABLES:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        sample = conn.execute(f"SELECT * FROM {table} LIMIT 2000").fetchall()
        types, lengths = [], []
        for i in range(len(columns)):
            values = [r[i] for r in sample if r[i] is not None]
            first = values[0] if values else None
            types.append(type(first).__name__)
            lengths.append(
                int(sum(len(v) for v in values) / len(values))
                if isinstance(first, (str, bytes))
                else 0
            )
        shapes[table] = (count, types, lengths)
    conn.close()
    return shapes


def synthetic_rows(count: int, types: list[str], lengths: list[int], rng: random.Random):
    """Rows of the given shape; integer first columns count up like the real keys do."""
    for i in range(count):
        row = []
        for col, (kind, length) in enumerate(zip(types, lengths, strict=True)):
            if kind == "int":
                row.append(i + 1 if col == 0 else rng.randrange(1 << 31))
            elif kind == "float":
                row.append(rng.random())
            elif kind == "bytes":
                row.append(rng.randbytes(length))
            elif kind == "str":
                row.append(rng.randbytes(length // 2 + 1).hex()[:length])
            else:
                row.append(None)
        yield tuple(row)


def baseline(shapes, out: Path) -> tuple[float, int]:
    """Write the same number of same-shaped rows with executemany; (seconds, rows)."""
    rng = random.Random(1)
    prepared = {t: list(synthetic_rows(c, ty, ln, rng)) for t, (c, ty, ln) in shapes.items()}
    conn = sqlite3.connect(out)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
        conn.execute(f"PRAGMA {pragma}")
    create_tables(conn)
    started = time.perf_counter()
    for table, rows in prepared.items():
        if table in ("outputs", "inputs"):  # (tx_id, n) keys must be unique, as in the world
            rows = [(i // 4 + 1, i % 4, *r[2:]) for i, r in enumerate(rows)]
        marks = ",".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    create_indexes(conn)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, sum(len(r) for r in prepared.values())


def main() -> None:
    """Run the benchmark for each size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    print(
        f"{'transactions':>12} {'tron txs':>9} {'build s':>8} {'rows/s':>10} {'baseline s':>10} "
        f"{'ratio':>6} {'peak MiB':>8}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            world = Path(tmp) / "world.db"
            seconds, peak = build_in_child(size, world)
            shapes = row_shapes(world)
            rows = sum(c for c, _, _ in shapes.values())
            base_seconds, base_rows = baseline(shapes, Path(tmp) / "baseline.db")
            assert base_rows == rows
            print(
                f"{shapes['transactions'][0]:>12} {shapes['tron_txs'][0]:>9} {seconds:>8.1f} "
                f"{rows / seconds:>10.0f} "
                f"{base_seconds:>10.1f} {seconds / base_seconds:>6.1f} {peak / 2**20:>8.0f}",
                flush=True,
            )
            os.sync()


if __name__ == "__main__":
    main()
