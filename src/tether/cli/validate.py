"""``tether validate``: lint connector packages and definition files offline.

Takes folders, files, zips or a tree of many packages (the whole Power Platform corpus
works), lints them in parallel with a progress bar, and exits 0 when clean, 1 when a
finding is at error level, 2 when some input could not be read at all.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tether.cli._output import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, err, out, print_json
from tether.definition import DEFINITION_FILE, load_package
from tether.definition.lint import PROFILES, Profile, limit_finding, lint_package
from tether.errors import LimitExceeded, TetherError

__all__ = ["discover", "validate"]

# Below this many packages a process pool costs more to start than it saves.
_PARALLEL_THRESHOLD = 16
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@dataclass
class Outcome:
    """What validating one package or file gave: its findings, or why it could not be read."""

    source: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "findings": self.findings, "error": self.error}


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Connector folders, definition files (JSON/YAML), zips, or folders of packages."),
    ],
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="'custom' reports real problems only; 'certification' adds Microsoft's certification rules.",
        ),
    ] = "custom",
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU).")
    ] = os.cpu_count() or 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print packages with findings.")] = False,
) -> None:
    """Validate connector packages offline: structure, x-ms-* extensions, apiProperties, policies.

    Exit codes: 0 no error-level finding, 1 at least one error-level finding,
    2 some input could not be read (bad JSON, missing definition, no such path).
    """
    if profile not in PROFILES:
        err.print(f"[bold red]error:[/] unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        raise typer.Exit(EXIT_INPUT)
    targets, missing = discover(paths)
    outcomes = [
        Outcome(str(p), error={"code": "not-found", "message": f"{p}: no such file or folder"})
        for p in missing
    ]
    outcomes += _run(targets, profile=profile, jobs=jobs, show_progress=not as_json or len(targets) > 1)
    if as_json:
        print_json(
            {"profile": profile, "summary": _summary(outcomes), "results": [o.to_dict() for o in outcomes]}
        )
    else:
        _print_human(outcomes, quiet=quiet)
    raise typer.Exit(_exit_code(outcomes))


def discover(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Expand ``paths`` into package folders and files; return them and the missing paths.

    A folder holding a definition (or settings.json) is one package; any other folder is
    searched for packages below it, so a whole corpus can be validated in one call.
    """
    targets: list[Path] = []
    missing: list[Path] = []
    for path in paths:
        if path.is_file():
            targets.append(path)
        elif path.is_dir():
            targets.extend(_package_folders(path))
        else:
            missing.append(path)
    return targets, missing


def _package_folders(root: Path) -> list[Path]:
    if _is_package(root):
        return [root]
    found: list[Path] = []
    for child in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found.extend(_package_folders(child))
    return found


def _is_package(folder: Path) -> bool:
    names = {p.name.lower() for p in folder.iterdir() if p.is_file()}
    return (
        DEFINITION_FILE.lower() in names
        or "settings.json" in names
        or any(n.endswith(".swagger.json") for n in names)
    )


def _run(targets: list[Path], *, profile: str, jobs: int, show_progress: bool) -> list[Outcome]:
    if not targets:
        return []
    progress = Progress(
        TextColumn("validating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_progress or len(targets) < 2,
    )
    results: list[Outcome] = []
    with progress:
        task = progress.add_task("validate", total=len(targets))
        if jobs > 1 and len(targets) >= _PARALLEL_THRESHOLD:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for outcome in pool.map(_validate_one, targets, [profile] * len(targets), chunksize=8):
                    results.append(outcome)
                    progress.advance(task)
        else:
            for target in targets:
                results.append(_validate_one(target, profile))
                progress.advance(task)
    return results


def _validate_one(target: Path, profile: str) -> Outcome:
    outcome = Outcome(str(target))
    try:
        package = load_package(target)
    except LimitExceeded as exc:
        # Readable in principle, but past a safety limit: a finding with a rule id, not a crash.
        outcome.findings = [limit_finding(exc, file=str(target), profile=profile).to_dict()]  # type: ignore[arg-type]
        return outcome
    except TetherError as exc:
        outcome.error = {"code": exc.code, "message": exc.message, **exc.detail}
        return outcome
    findings = lint_package(package, profile=cast(Profile, profile))  # validate() checked the name
    outcome.findings = [f.to_dict() for f in findings]
    return outcome


def _summary(outcomes: list[Outcome]) -> dict[str, Any]:
    severities = Counter(f["severity"] for o in outcomes for f in o.findings)
    return {
        "packages": len(outcomes),
        "unreadable": sum(1 for o in outcomes if o.error),
        "with_errors": sum(1 for o in outcomes if any(f["severity"] == "error" for f in o.findings)),
        "findings": dict(severities),
    }


def _exit_code(outcomes: list[Outcome]) -> int:
    if any(o.error for o in outcomes):
        return EXIT_INPUT
    if any(f["severity"] == "error" for o in outcomes for f in o.findings):
        return EXIT_FINDINGS
    return EXIT_OK


def _print_human(outcomes: list[Outcome], *, quiet: bool) -> None:
    for outcome in outcomes:
        if outcome.error:
            err.print(f"[bold red]error:[/] {escape(outcome.error['message'])}")
            continue
        if not outcome.findings:
            if not quiet:
                out.print(f"[green]✓[/] {escape(outcome.source)}")
            continue
        for finding in outcome.findings:
            where = f"{finding['file']}:{finding['line']}" if finding.get("line") else finding["file"]
            style = _SEVERITY_STYLE.get(finding["severity"], "")
            out.print(
                f"{escape(where)}: [{style}]{finding['severity']}[/] [dim]{finding['rule']}[/] "
                f"{escape(finding['message'])} [dim]({escape(finding['pointer'] or '/')})[/]"
            )
    summary = _summary(outcomes)
    counts = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in sorted(summary["findings"].items()))
    out.print(
        f"\n{summary['packages']} checked: {counts or 'no findings'}"
        + (f"; {summary['unreadable']} unreadable" if summary["unreadable"] else "")
    )
