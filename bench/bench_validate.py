"""Benchmark: Tether's linter against openapi-spec-validator, on the Power Platform corpus.

Run: ``.venv/bin/python bench/bench_validate.py``. In one run it measures (i) linting the
whole corpus in process with a 2-process pool (custom profile): files per second and total
seconds; (ii) for the 5 largest definitions, Tether's ``lint_package`` (schema, semantics,
x-ms, apiProperties, with line numbers) against ``openapi_spec_validator.validate`` alone on
the same parsed data, best of 3 each. openapi-spec-validator stops at its first error, so on
invalid files it does less work than Tether, which collects every finding. Results go to
``bench/results/validate-<timestamp>.json`` (gitignored).
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate as osv_validate
from openapi_spec_validator.validation.validators import (
    OpenAPIV2SpecValidator,
    OpenAPIV30SpecValidator,
    OpenAPIV31SpecValidator,
)

from tether.definition import load_package
from tether.definition.lint import lint_package
from tether.errors import TetherError

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "powerplatform"
RESULTS = REPO / "bench" / "results"
REPEATS = 3


def _lint_one(folder: str) -> tuple[int, Counter[str]]:
    """Bytes linted and findings by rule for one package (0 bytes when it does not load)."""
    try:
        package = load_package(folder)
    except TetherError:
        return 0, Counter()
    findings = lint_package(package, profile="custom")
    size = sum(len(content) for content in package.files.values())
    return size, Counter(f.rule for f in findings)


def bench_corpus(folders: list[str]) -> dict[str, Any]:
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_lint_one, folders, chunksize=4)
    seconds = time.perf_counter() - start
    linted = [r for r in results if r[0]]
    rules: Counter[str] = Counter()
    for _, counts in linted:
        rules.update(counts)
    return {
        "packages": len(folders),
        "linted": len(linted),
        "megabytes": round(sum(size for size, _ in linted) / 1e6, 1),
        "seconds": round(seconds, 2),
        "packages_per_second": round(len(linted) / seconds, 1),
        "findings_by_rule": dict(rules.most_common()),
    }


def validator_for(data: Any) -> Any:
    """openapi-spec-validator's validator class for the document's version."""
    if "swagger" in data:
        return OpenAPIV2SpecValidator
    version = str(data.get("openapi", ""))
    return OpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator


def _best(function: Any) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def bench_largest(folders: list[str], count: int = 5) -> list[dict[str, Any]]:
    by_size = sorted(
        folders,
        key=lambda f: (
            (Path(f) / "apiDefinition.swagger.json").stat().st_size
            if (Path(f) / "apiDefinition.swagger.json").exists()
            else 0
        ),
        reverse=True,
    )
    rows = []
    for folder in by_size[:count]:
        package = load_package(folder)
        data = package.definition.data

        def run_osv(data: Any = data) -> str:
            try:
                osv_validate(data)
            except Exception as exc:  # the verdict, not a failure of the benchmark
                return type(exc).__name__
            return "valid"

        def run_tether(package: Any = package) -> int:
            # Each call builds its own index and line locator: nothing is cached across runs.
            return len(lint_package(package))

        def run_osv_all(data: Any = data) -> int:
            # Every error, as Tether reports every finding: the like-for-like comparison.
            return len(list(validator_for(data)(data).iter_errors()))

        tether = _best(run_tether)  # both sides start from the same parsed data
        osv = _best(run_osv)
        osv_all = _best(run_osv_all)
        rows.append(
            {
                "connector": Path(folder).name,
                "megabytes": round(len(package.definition.text) / 1e6, 2),
                "tether_seconds": round(tether, 4),
                "validator_seconds": round(osv, 4),
                "ratio_validator_over_tether": round(osv / tether, 1) if tether > 0 else None,
                "validator_all_errors_seconds": round(osv_all, 4),
                "ratio_all_errors_over_tether": round(osv_all / tether, 1) if tether > 0 else None,
                "tether_findings": run_tether(),
                "validator_verdict": run_osv(),
            }
        )
    return rows


def bench_cli() -> dict[str, Any]:
    """The user's view: ``tether validate CORPUS --json`` as a command, start-up included."""
    tether = Path(sys.executable).with_name("tether")
    start = time.perf_counter()
    done = subprocess.run(
        [str(tether), "validate", str(CORPUS), "--json"], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    report = json.loads(done.stdout)
    return {
        "seconds": round(seconds, 2),
        "exit_code": done.returncode,
        "summary": report["summary"],
        "traceback_in_output": "Traceback" in done.stdout + done.stderr,
    }


def main() -> int:
    if not CORPUS.exists():
        print(f"corpus not found at {CORPUS}; put shared/ beside the repository")
        return 1
    folders = sorted(str(p) for p in CORPUS.glob("*/*") if p.is_dir())
    corpus = bench_corpus(folders)
    print(
        f"Whole corpus, custom profile, 2 processes: {corpus['linted']} packages "
        f"({corpus['megabytes']} MB) in {corpus['seconds']} s = {corpus['packages_per_second']} packages/s"
    )
    cli = bench_cli()
    print(
        f"tether validate CORPUS --json (whole command): {cli['summary']['packages']} packages in "
        f"{cli['seconds']} s, exit code {cli['exit_code']} ({cli['summary']['unreadable']} unreadable), "
        f"traceback: {cli['traceback_in_output']}  [target < 30 s]"
    )
    largest = bench_largest(folders)
    print()
    print(
        f"{'connector':<32} {'MB':>5} {'tether s':>9} {'validate s':>11} {'ratio':>6} "
        f"{'all errors s':>13} {'ratio':>6}  validator verdict"
    )
    for row in largest:
        print(
            f"{row['connector']:<32} {row['megabytes']:>5} {row['tether_seconds']:>9.4f} "
            f"{row['validator_seconds']:>11.4f} {row['ratio_validator_over_tether']:>5}x "
            f"{row['validator_all_errors_seconds']:>13.4f} {row['ratio_all_errors_over_tether']:>5}x  "
            f"{row['validator_verdict']} (tether: {row['tether_findings']} findings)"
        )
    print(
        "ratio = validator time / Tether time (higher is better for Tether). 'validate' stops at the "
        "first error;\n'all errors' (iter_errors) collects every error, as Tether collects every finding."
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"validate-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "corpus": corpus,
                "cli": cli,
                "largest": largest,
            },
            indent=2,
        )
    )
    print(f"\nresults written to {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
