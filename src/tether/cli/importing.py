"""``tether import …`` and ``tether export …``: other API descriptions in, Power Platform out.

Every command builds the package in memory, lints it, then writes it atomically (a failure
leaves nothing on disk) and prints the import report: what was approximated, repaired or
could not be represented, each with where it is in the source.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape

from tether.cli._output import err, friendly, out, print_json
from tether.definition import ConnectorPackage, load_package
from tether.definition.lint import lint_package
from tether.errors import InputError

if TYPE_CHECKING:
    from tether.importers import ImportResult

__all__ = ["export_app", "import_app"]

_BIG_SOURCE = 1024 * 1024  # from this size an import takes long enough to show its stages
import_app = typer.Typer(help="Turn an API description into a connector package.", no_args_is_help=True)
export_app = typer.Typer(help="Write a connector package in another platform's format.", no_args_is_help=True)

OutOption = Annotated[Path, typer.Option("--out", "-o", help="Folder to write the connector package into.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.")]
# For commands that make a new package (--out) or add to an existing one (--into).
NewOutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for a new package.")]
IntoOption = Annotated[Path | None, typer.Option("--into", help="Add the operation to this package.")]


@import_app.command("openapi")
@friendly
def import_openapi(
    source: Annotated[Path, typer.Argument(help="Swagger 2.0 or OpenAPI 3.0/3.1 file, JSON or YAML.")],
    out_dir: OutOption,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair mechanical problems (types of defaults...).")
    ] = False,
    title: Annotated[str | None, typer.Option(help="Connector title (default: info.title).")] = None,
    description: Annotated[str | None, typer.Option(help="Connector description.")] = None,
    brand_color: Annotated[
        str | None, typer.Option("--brand-color", help="Icon brand colour, #rrggbb.")
    ] = None,
    icon: Annotated[Path | None, typer.Option(help="Icon PNG.")] = None,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import an OpenAPI document (kept as written; Tether runs OpenAPI 3 natively)."""
    from tether.importers import import_openapi as run

    result = run(
        source,
        fix=fix,
        title=title,
        description=description,
        brand_color=brand_color,
        icon=icon.read_bytes() if icon else None,
        progress=_progress(source),
    )
    _finish(result, out_dir, overwrite=overwrite, as_json=as_json)


def _progress(source: Path) -> Callable[[str], None] | None:
    """Stage lines on stderr for a big file on a terminal (Stripe's 4 MB takes seconds)."""
    try:
        big = source.stat().st_size >= _BIG_SOURCE
    except OSError:
        big = False
    if not (big and err.is_terminal):
        return None
    started = time.monotonic()
    return lambda stage: err.print(f"[{time.monotonic() - started:5.1f}s] {stage}...")


@import_app.command("postman")
@friendly
def import_postman(
    source: Annotated[Path, typer.Argument(help="Postman collection v2.0 or v2.1 (JSON).")],
    out_dir: OutOption,
    merge_duplicates: Annotated[
        bool,
        typer.Option(
            "--merge-duplicates/--keep-duplicates",
            help="Merge requests with the same method and path into one operation (as postman2openapi),"
            " or keep one action per request, routed to the shared path by a policy.",
        ),
    ] = True,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a Postman collection: one operation per method and path, auth, examples, folders as tags."""
    from tether.importers import import_postman as run

    result = run(_read(source), name=str(source), merge_duplicates=merge_duplicates)
    _finish(result, out_dir, overwrite=overwrite, as_json=as_json)


@import_app.command("wsdl")
@friendly
def import_wsdl(
    source: Annotated[Path, typer.Argument(help="WSDL 1.1 file (SOAP 1.1 or 1.2 bindings).")],
    out_dir: OutOption,
    mode: Annotated[
        str, typer.Option(help="'soap-to-rest' (JSON in and out) or 'passthrough' (raw XML body).")
    ] = "soap-to-rest",
    service: Annotated[str | None, typer.Option(help="Service to import (default: the first).")] = None,
    port: Annotated[
        str | None, typer.Option(help="SOAP port to import (default: the first SOAP 1.1 port).")
    ] = None,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a SOAP service: each operation becomes an action with JSON schemas from the XSD."""
    from tether.importers import import_wsdl as run

    if mode not in ("soap-to-rest", "passthrough"):
        raise InputError(f"unknown --mode {mode!r}; use 'soap-to-rest' or 'passthrough'")
    soap_mode: Literal["soap-to-rest", "passthrough"] = (
        "soap-to-rest" if mode == "soap-to-rest" else "passthrough"
    )
    result = run(source, name=str(source), mode=soap_mode, service=service, port=port)
    _finish(result, out_dir, overwrite=overwrite, as_json=as_json)


@import_app.command("curl")
@friendly
def import_curl(
    command: Annotated[str, typer.Argument(help='A cURL command line, quoted: "curl -X POST https://…".')],
    out_dir: NewOutOption = None,
    into: IntoOption = None,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make an operation from a cURL command (a new package, or --into an existing one)."""
    from tether.importers import import_curl as run

    target, existing = _target(out_dir, into)
    _finish(run(command, into=existing), target, overwrite=overwrite or into is not None, as_json=as_json)


@import_app.command("sample")
@friendly
def import_sample(
    request: Annotated[Path, typer.Option("--request", help="Sample HTTP request (text or JSON).")],
    response: Annotated[Path | None, typer.Option("--response", help="Sample HTTP response.")] = None,
    out_dir: NewOutOption = None,
    into: IntoOption = None,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Power Platform's "import from sample": an operation with schemas inferred from examples."""
    from tether.importers import import_sample as run

    target, existing = _target(out_dir, into)
    result = run(_read(request), _read(response) if response else None, into=existing)
    _finish(result, target, overwrite=overwrite or into is not None, as_json=as_json)


@export_app.command("powerplatform")
@friendly
def export_powerplatform(
    package: Annotated[Path, typer.Argument(help="Connector folder, zip or OpenAPI file.")],
    out_dir: OutOption,
    allow_oversize: Annotated[
        bool,
        typer.Option("--allow-oversize", help="Export past Power Platform's 1 MB / 256-operation limits."),
    ] = False,
    split: Annotated[
        int | None,
        typer.Option("--split", metavar="N", help="Split by tag into connectors of at most N operations."),
    ] = None,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write a Swagger 2.0 + apiProperties package paconn accepts, reporting what could not be represented.

    The output is validated first: what Power Platform refuses is converted or reported, and an
    export that would still be refused exits non-zero and writes nothing.
    """
    from tether.importers import export_powerplatform as run

    if split is None:
        result = run(load_package(package), strict=True, allow_oversize=allow_oversize)
        _finish(result, out_dir, overwrite=overwrite, as_json=as_json)
        return
    from tether.importers import split_by_tag

    whole = run(load_package(package), strict=True, allow_oversize=True)
    parts = [
        (label, run(part, strict=True, allow_oversize=allow_oversize))
        for label, part in split_by_tag(whole.package, split)
    ]
    for number, (label, result) in enumerate(parts, 1):
        out.print(f"Part {number} of {len(parts)} (tags: {escape(label)}):")
        _finish(result, out_dir / f"part-{number:02d}", overwrite=overwrite, as_json=as_json)


def _target(out_dir: Path | None, into: Path | None) -> tuple[Path, ConnectorPackage | None]:
    if (out_dir is None) == (into is None):
        raise InputError("give exactly one of --out DIR (a new package) or --into DIR (an existing one)")
    if into is not None:
        return into, load_package(into)
    return out_dir or Path(), None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _finish(result: ImportResult, out_dir: Path, *, overwrite: bool, as_json: bool) -> None:
    from tether.importers import write_package

    findings = lint_package(result.package)
    errors = [f for f in findings if f.severity == "error"]
    written = write_package(result.package, out_dir, overwrite=overwrite)
    if as_json:
        print_json({**result.to_dict(), "out": str(written), "lint": [f.to_dict() for f in findings]})
        return
    for item in result.report:
        out.print(f"  {item.kind}: {escape(item.where or '/')}: {escape(item.message)}")
    out.print(
        f"Wrote {escape(result.package.title)} to {escape(str(written))} "
        f"({len(result.report)} report item(s); tether validate: {len(errors)} error(s), "
        f"{len(findings) - len(errors)} other finding(s))."
    )
    out.print(
        f"Next: tether validate {escape(str(written))}  |  tether connector create {escape(str(written))}"
    )
