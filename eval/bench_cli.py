"""Start-up cost of the command line: `persona-lab --help` must answer at once, so the CLI imports no heavy
library (torch, transformers, jieba, scikit-learn) until a command needs it.

    python eval/bench_cli.py

A test (tests/test_cli.py) checks that nothing heavy is imported; the time itself is measured here, not
asserted in a test, because it depends on the machine and its load. Figures go to results/BENCHMARKS.md
with the date.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import date

CODE = ("import time; t = time.perf_counter(); from persona_lab.cli import build_parser; "
        "build_parser().format_help(); print(time.perf_counter() - t)")


def main(runs: int = 7) -> None:
    imports, totals = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
        totals.append(time.perf_counter() - start)
        imports.append(float(out))
    print(f"# bench_cli {date.today()} · {runs} runs, median")
    print(f"import persona_lab.cli + build the parser + format --help: {statistics.median(imports) * 1000:.0f} ms")
    print(f"the same with Python's own start-up: {statistics.median(totals) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
