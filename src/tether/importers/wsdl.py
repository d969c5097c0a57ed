"""Import a SOAP service from its WSDL 1.1 description.

Like Logic Apps' "SOAP to REST" and "SOAP pass-through" custom connectors: each operation of
one SOAP port becomes an action. In ``soap-to-rest`` mode the action takes and returns JSON
whose schemas come from the XSD types, and the runtime builds and parses the envelopes; in
``passthrough`` mode the caller sends and receives the raw envelope as XML. Either way the
``x-tether-soap`` extensions (root and operation) hold what the runtime needs: address,
SOAP version and action, style and use, and the body element QNames.

    >>> result = import_wsdl(Path("calculator.wsdl"))  # doctest: +SKIP
    >>> write_package(result.package, "calculator/")  # doctest: +SKIP

Nothing is fetched: imports and includes that point to URLs are refused (see ``_wsdl_load``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from tether.errors import InputError
from tether.importers._package_build import build_package, default_properties
from tether.importers._result import ImportResult
from tether.importers._wsdl_build import Mode, build_definition
from tether.importers._wsdl_load import load_wsdl

__all__ = ["WSDL_MODES", "import_wsdl"]

WSDL_MODES: tuple[str, ...] = get_args(Mode)


def import_wsdl(
    source: Path | bytes,
    *,
    name: str = "service.wsdl",
    mode: Literal["soap-to-rest", "passthrough"] = "soap-to-rest",
    service: str | None = None,
    port: str | None = None,
) -> ImportResult:
    """Build a connector package from a WSDL 1.1 document.

    Args:
        source: the WSDL file, or its bytes (then imports of other files cannot be read).
        name: the document's name in messages when ``source`` is bytes.
        mode: ``soap-to-rest`` (JSON in and out) or ``passthrough`` (the SOAP envelope as XML).
        service, port: which port to import; by default the first SOAP 1.1 port (else the
            first SOAP 1.2 port) of the first service that has one. Other ports are reported.

    Raises:
        DocumentSyntaxError: broken XML, with line and column.
        InputError: not WSDL 1.1, WSDL 2.0, only HTTP bindings, an unknown service or port,
            or an import that would need the network.
    """
    if mode not in WSDL_MODES:
        raise InputError(f"unknown WSDL import mode {mode!r}; use one of {', '.join(WSDL_MODES)}")
    loaded = load_wsdl(source, name=name)
    chosen_service, chosen_port, skipped = _choose_port(loaded.document, loaded.name, service, port)
    reports: list[tuple[str, str, str]] = list(loaded.notes)
    for where, kind, message in skipped:
        reports.append((kind, where, message))
    definition = build_definition(
        loaded,
        chosen_service,
        chosen_port,
        mode=mode,
        report=lambda kind, where, message: reports.append((kind, where, message)),
    )
    package = build_package(definition, default_properties(), source=loaded.name)
    result = ImportResult(package)
    for kind, where, message in reports:
        result.add(kind, where, message)  # type: ignore[arg-type]
    return result


def _choose_port(
    document: Any, name: str, service: str | None, port: str | None
) -> tuple[Any, Any, list[tuple[str, str, str]]]:
    """The (service, port) to import, and report lines for the ports left out."""
    candidates: list[tuple[Any, Any]] = []
    notes: list[tuple[str, str, str]] = []
    for svc in document.services.values():
        if service is not None and svc.name != service:
            continue
        for prt in svc.ports.values():
            where = f"/{svc.name}/{prt.name}"
            if _is_soap(prt):
                candidates.append((svc, prt))
            elif port is not None and prt.name == port:
                raise InputError(
                    f"{name}: port {port!r} uses an HTTP binding ({type(prt.binding).__name__}); only SOAP "
                    "1.1 and 1.2 bindings are supported. Choose one of the SOAP ports"
                )
            else:
                notes.append(
                    (
                        where,
                        "unsupported",
                        f"port {prt.name!r} uses an HTTP binding "
                        f"({type(prt.binding).__name__}), which is not supported; skipped",
                    )
                )
    if service is not None and not any(svc.name == service for svc in document.services.values()):
        raise InputError(f"{name}: no service named {service!r}; the WSDL has {_names(document.services)}")
    if port is not None:
        matching = [(s, p) for s, p in candidates if p.name == port]
        if not matching:
            raise InputError(
                f"{name}: no SOAP port named {port!r}; the SOAP ports are "
                f"{', '.join(p.name for _, p in candidates) or 'none'}"
            )
        chosen = matching[0]
    elif not candidates:
        raise InputError(
            f"{name}: no SOAP 1.1 or 1.2 port found; HTTP bindings (and WSDLs without a service) "
            "are not supported"
        )
    else:
        soap11 = [c for c in candidates if type(c[1].binding).__name__ == "Soap11Binding"]
        chosen = (soap11 or candidates)[0]
    for svc, prt in candidates:
        if (svc, prt) != chosen:
            notes.append(
                (
                    f"/{svc.name}/{prt.name}",
                    "info",
                    f"SOAP port {prt.name!r} of service {svc.name!r} "
                    f"was not imported; import it with --port {prt.name}",
                )
            )
    return chosen[0], chosen[1], notes


def _is_soap(port: Any) -> bool:
    from zeep.wsdl.bindings.soap import SoapBinding

    return isinstance(port.binding, SoapBinding)


def _names(mapping: Any) -> str:
    return ", ".join(repr(key) for key in mapping) or "none"
