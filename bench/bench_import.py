"""Benchmark: importing stripe.yaml with Tether vs prance and openapi-spec-validator.

Not a test. Each tool starts from the file on disk (reading YAML is part of every job):
Tether's ``import_openapi`` (read, bundle, validate with openapi-spec-validator, lint, build
the package), ``prance.ResolvingParser`` (read and resolve every $ref) and
``openapi_spec_validator.validate`` (read and validate). Best of 3 each, in the same run;
the target is Tether ≤ the slower of the two baselines.

    .venv/bin/python bench/bench_import.py [path/to/stripe.yaml] [--rounds N]

prance inlines every reference of Stripe's recursive schemas and takes minutes per round;
``--rounds 1`` gives a figure sooner, ``--quick`` skips the two baselines. Each line is
printed as soon as it is measured.

It also reports CPU seconds (``time.process_time``, so a busy shared machine does not
inflate them): Tether's import of Stripe, target < 5 s, and the ``--fix`` path on every
OpenAPI/Swagger file of ../shared, the largest first.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRIPE = REPO.parent / "shared" / "samples" / "openapi3" / "stripe.yaml"
ROUNDS = 3
STRIPE_CPU_TARGET = 5.0


def best_of(job: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def best_cpu(job: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        job()
        times.append(time.process_time() - start)
    return min(times)


def cpu_report(source: Path, rounds: int) -> None:
    """CPU of the import and of ``--fix`` on every shared spec, the largest first."""
    from tether.importers._openapi import import_openapi

    cpu = best_cpu(lambda: import_openapi(source), rounds)
    verdict = "met" if cpu < STRIPE_CPU_TARGET else "MISSED"
    target = f"target < {STRIPE_CPU_TARGET:.0f} s: {verdict}"
    print(f"{source.name}: tether import_openapi CPU {cpu:.2f} s ({target})")
    shared = REPO.parent / "shared"
    files = [*(shared / "samples" / "openapi3").glob("*"), *(shared / "samples" / "swagger2").glob("*")]
    files += list((shared / "specs").glob("*/*.json"))
    print(f"{'--fix on':34} {'MB':>5} {'CPU s':>7} {'fixes':>6}", flush=True)
    for path in sorted(files, key=lambda p: -p.stat().st_size):
        result = None

        def job(path: Path = path) -> None:
            nonlocal result
            result = import_openapi(path, fix=True)

        seconds = best_cpu(job, rounds)
        fixes = sum(1 for item in result.report if item.kind == "fix") if result else 0
        print(f"{path.name:34} {path.stat().st_size / 2**20:5.1f} {seconds:7.2f} {fixes:6d}", flush=True)


def main() -> int:
    args = sys.argv[1:]
    rounds = ROUNDS
    quick = "--quick" in args
    if quick:
        args.remove("--quick")
    if "--rounds" in args:
        index = args.index("--rounds")
        rounds = int(args[index + 1])
        del args[index : index + 2]
    source = Path(args[0]) if args else STRIPE
    if not source.exists():
        print(f"{source} is absent: put the shared/ folder beside the repository")
        return 2
    cpu_report(source, rounds)
    if quick:
        return 0
    import prance
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    from tether.importers._openapi import import_openapi

    def osv() -> None:
        spec, _ = read_from_filename(str(source))
        validate(spec)

    def resolve() -> None:
        # Stripe's schemas are recursive: stop at a cycle instead of failing, as Tether does.
        prance.ResolvingParser(
            str(source),
            backend="openapi-spec-validator",
            strict=False,
            recursion_limit_handler=lambda limit, url, recursions: {"$ref": str(url)},
        )

    print(f"{source.name} ({source.stat().st_size / 2**20:.1f} MB), best of {rounds}", flush=True)
    print(f"{'tool':34} {'seconds':>8}", flush=True)
    results: dict[str, float] = {}
    for name, job in (
        ("tether import_openapi", lambda: import_openapi(source)),
        ("openapi_spec_validator.validate", osv),
        ("prance ResolvingParser", resolve),
    ):
        results[name] = best_of(job, rounds)
        print(f"{name:34} {results[name]:8.2f}", flush=True)
    slower = max(results["prance ResolvingParser"], results["openapi_spec_validator.validate"])
    tether = results["tether import_openapi"]
    verdict = "met" if tether <= slower else "MISSED"
    print(f"tether / slower baseline = {tether / slower:.2f}x; target Tether <= {slower:.2f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
