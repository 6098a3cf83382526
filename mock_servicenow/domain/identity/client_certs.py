"""Client certificates mapped to users: certificate-based authentication of REST calls.

Sources: https://www.servicenow.com/docs/r/platform-security/certificate-based-authentication/set-up-mutual-auth.html
("the system uses the provided certificates to mutually authenticate requests to access
ServiceNow REST and SOAP APIs"),
https://www.servicenow.com/docs/r/platform-security/certificate-based-authentication/map-user-pem-certificate.html
(User to Certificate Mapping, ``sys_user_certificate``: Name, Active, User, the PEM
certificate; Valid from, Expires, Issuer and Subject are extracted on upload; "the system ...
uses the user designated in this field to initiate a session to execute the request"; several
certificates per user).

On the platform the load balancer verifies the certificate chain against the registered CA
certificates; here the TLS server does (``serve --tls --client-ca PATH``) and hands the
verified certificate to the app. The app maps it to a user by its SHA-256 fingerprint. A
request without a certificate, or with one that no active mapping names, is left to the other
methods (and so ends in the 401 envelope when it has none); a certificate mapped to an
inactive or locked-out user is refused with the 401 envelope (servicenow-behaviour §1.5, §6).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mock_servicenow.domain.identity import users
from mock_servicenow.domain.platform.clock import format_glide
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import NotAuthenticated, OperationFailed
from mock_servicenow.store import auth_tables

#: The refusal of a write whose PEM is not a certificate (the emulator's words; the platform
#: validates the upload, map-user-pem-certificate).
INVALID_PEM = "The PEM Certificate is not an X.509 certificate in PEM format"


@dataclass(frozen=True)
class CertificateFacts:
    """What the platform extracts from an uploaded certificate (read-only form fields)."""

    fingerprint: str
    subject: str
    issuer: str
    valid_from: str
    expires: str


def describe(pem: str) -> CertificateFacts:
    """The facts of a PEM certificate; :class:`ValueError` when it is not one."""
    certificate = x509.load_pem_x509_certificate(pem.strip().encode("ascii"))
    der = certificate.public_bytes(serialization.Encoding.DER)
    return CertificateFacts(
        fingerprint=hashlib.sha256(der).hexdigest(),
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        valid_from=format_glide(certificate.not_valid_before_utc),
        expires=format_glide(certificate.not_valid_after_utc),
    )


def certificate_fields(row: dict[str, object], *, mapping: bool) -> None:
    """Business rule of ``sys_user_certificate`` (``mapping``) and ``sys_certificate`` writes:
    fill the read-only fields from ``pem_certificate``; 403 ``Operation Failed`` when it is
    not a certificate. Without a PEM the derived fields are cleared."""
    pem = row.get("pem_certificate")
    if not pem:
        if mapping:
            row.update(fingerprint=None, subject=None, issuer=None, valid_from=None)
        row["expires"] = None
        return
    try:
        facts = describe(str(pem))
    except (ValueError, UnicodeEncodeError):
        raise OperationFailed(INVALID_PEM) from None
    row["expires"] = facts.expires
    if mapping:
        row.update(fingerprint=facts.fingerprint, subject=facts.subject, issuer=facts.issuer,
                   valid_from=facts.valid_from)


@lru_cache(maxsize=256)
def _fingerprint(pem: str) -> str | None:
    """SHA-256 of the DER form of a PEM certificate the TLS server verified (each distinct
    certificate is parsed once per process)."""
    try:
        return describe(pem).fingerprint
    except (ValueError, UnicodeEncodeError):
        return None


def principal_for(ctx: Context, pem: str) -> Principal | None:
    """The user an active ``sys_user_certificate`` maps the presented certificate to;
    ``None`` when none does; :class:`NotAuthenticated` when that user may not authenticate."""
    fingerprint = _fingerprint(pem)
    if fingerprint is None:
        return None
    mapping = auth_tables.user_certificate(ctx.db, ctx.dictionary, fingerprint)
    if mapping is None or not mapping.get("user"):
        return None
    row = users.get_user(ctx, str(mapping["user"]))
    if row is None or not users.can_authenticate(row):
        raise NotAuthenticated()
    return users.principal_for(ctx, row, via="cert")
