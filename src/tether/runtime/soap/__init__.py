"""SOAP operations imported from WSDL: SOAP-to-REST (JSON ⇄ envelope) and pass-through modes.

``build_soap_stage(api)`` reads the ``x-tether-soap`` facts the WSDL importer recorded and
gives a pipeline stage; SOAP faults become :class:`SoapFault`.
"""

from tether.runtime.soap._envelope import SoapOperation, build_envelope, parse_envelope
from tether.runtime.soap._errors import SoapFault, SoapMessageError
from tether.runtime.soap._stage import SOAP_EXTENSION, SoapStage, build_soap_stage

__all__ = [
    "SOAP_EXTENSION",
    "SoapFault",
    "SoapMessageError",
    "SoapOperation",
    "SoapStage",
    "build_envelope",
    "build_soap_stage",
    "parse_envelope",
]
