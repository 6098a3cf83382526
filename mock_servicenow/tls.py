"""``serve --tls``: a local certificate authority and a server certificate signed by it; and
for mutual TLS (``serve --tls --client-ca PATH``), a local *client* CA and client certificates
issued by it (``mock-servicenow tls client-cert USER``).

Kept under ``<home>/tls/`` and reused on restart (the CA especially: clients keep trusting the
bundle they were given). The server certificate covers ``localhost``, ``*.localhost``, the
loopback addresses and the host being served; it is re-issued when the host is new. Private
keys are written with mode 0600 and never printed.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the generated material; ``ca_bundle`` is what clients verify against."""

    ca_bundle: Path
    certificate: Path
    private_key: Path


def _names_for(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName("*.localhost"),
                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                     x509.IPAddress(ipaddress.ip_address("::1"))]
    try:
        address = ipaddress.ip_address(host)
        if x509.IPAddress(address) not in names:
            names.append(x509.IPAddress(address))
    except ValueError:
        if host and x509.DNSName(host) not in names:
            names.append(x509.DNSName(host))
    return names


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)


def _private_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ensure_ca(cert_path: Path, key_path: Path,
               common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Load the CA at these paths, or create it (10 years, EC P-256)."""
    if cert_path.exists() and key_path.exists():
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path} is not the EC key this CA was made with")
        return loaded, x509.load_pem_x509_certificate(cert_path.read_bytes())
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, _private_bytes(ca_key))
    cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return ca_key, ca_cert


def ensure_tls(directory: Path, host: str) -> TLSFiles:
    """Create (or reuse) the CA and a server certificate valid for ``host``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = directory / "ca.pem", directory / "ca-key.pem"
    cert_path, key_path = directory / "server.pem", directory / "server-key.pem"
    now = datetime.datetime.now(datetime.UTC)
    ca_key, ca_cert = _ensure_ca(ca_cert_path, ca_key_path, "mock-servicenow local CA")
    wanted = _names_for(host)
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        try:
            san = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            covered = all(name in san for name in wanted)
        except x509.ExtensionNotFound:
            covered = False
        if covered and current.issuer == ca_cert.subject and current.not_valid_after_utc > now:
            return TLSFiles(ca_cert_path, cert_path, key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host or "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(wanted), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, _private_bytes(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return TLSFiles(ca_cert_path, cert_path, key_path)


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate issued by the local client CA, and where its files are."""

    client_ca: Path
    certificate: Path
    private_key: Path
    pem: str


def client_ca_paths(directory: Path) -> tuple[Path, Path]:
    """``(certificate, key)`` of the local client CA under ``<home>/tls``."""
    return directory / "client-ca.pem", directory / "client-ca-key.pem"


def issue_client_certificate(directory: Path, user_name: str,
                             out: Path | None = None) -> ClientCertificate:
    """A key and a certificate (``CN=<user_name>``, client authentication, 825 days) signed by
    the local client CA (created under ``directory`` when missing), written to ``out``
    (default ``<directory>/clients``) as ``<user_name>.pem`` and ``<user_name>-key.pem``."""
    if not user_name or "/" in user_name or user_name.startswith("."):
        raise ValueError(f"{user_name!r} cannot name a certificate file")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ensure_ca(*client_ca_paths(directory),
                                 common_name="mock-servicenow local client CA")
    target = out or directory / "clients"
    target.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = target / f"{user_name}.pem", target / f"{user_name}-key.pem"
    _write_private(key_path, _private_bytes(key))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path.write_bytes(pem)
    return ClientCertificate(client_ca_paths(directory)[0], cert_path, key_path, pem.decode())
