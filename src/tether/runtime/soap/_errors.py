"""Errors of SOAP calls, under Tether's tree (``tether.errors``).

TetherError
└── SoapFault            the service answered with a SOAP fault (code, string, actor, detail)
InputError
└── SoapMessageError     a JSON argument or an answer that cannot be turned into/out of XML
"""

from __future__ import annotations

from tether.errors import InputError, TetherError

__all__ = ["SoapFault", "SoapMessageError"]


class SoapFault(TetherError):
    """The SOAP service answered with a fault.

    ``fault_code`` and ``fault_string`` are SOAP 1.1's ``faultcode``/``faultstring`` (for SOAP
    1.2, ``Code/Value`` and ``Reason/Text``); ``detail`` holds them with ``actor`` and the
    fault's ``detail`` text, shaped as the importer's ``SoapFault`` schema.
    """

    code = "soap-fault"
    status = 502

    def __init__(
        self,
        fault_code: str,
        fault_string: str,
        *,
        actor: str | None = None,
        detail: str | None = None,
        http_status: int = 500,
    ) -> None:
        super().__init__(
            f"the SOAP service answered with a fault: {fault_code}: {fault_string}",
            detail={
                "code": fault_code,
                "message": fault_string,
                "actor": actor,
                "detail": detail,
                "http_status": http_status,
            },
        )
        self.fault_code, self.fault_string, self.actor, self.fault_detail = (
            fault_code,
            fault_string,
            actor,
            detail,
        )


class SoapMessageError(InputError):
    """JSON that cannot become the SOAP body, or a response that is not a SOAP envelope."""

    code = "soap-message"
    status = 502
