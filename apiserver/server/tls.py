"""The API server's own certificate authority and serving certificate.

kubectl sends its bearer token only over HTTPS, so the API listens on TLS with a
certificate signed by a small CA that lives in ``settings.STATE_DIR``. Every
kubeconfig carries that CA, so clients verify the server instead of skipping checks.
The files are made on first use and reused afterwards; the server certificate is
remade when it misses a host name or is close to expiring, the CA only when lost.
"""

import datetime
import fcntl
import ipaddress
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

DEFAULT_HOSTS = ("127.0.0.1", "::1", "localhost")
CA_LIFETIME = datetime.timedelta(days=3650)
SERVER_LIFETIME = datetime.timedelta(days=397)
# Remake the server certificate this long before it expires.
RENEW_BEFORE = datetime.timedelta(days=30)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class CertPaths:
    """Where the CA and the serving certificate live on disk."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def cert_paths(state_dir: Path | None = None) -> CertPaths:
    directory = Path(state_dir or settings.STATE_DIR) / "tls"
    return CertPaths(
        directory=directory,
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
    )


def required_hosts(extra: Iterable[str] = ()) -> list[str]:
    """Loopback names, then ``WAREHOUSE_API_HOSTS``, then any extra: what the cert must name."""
    hosts: list[str] = []
    for host in (*DEFAULT_HOSTS, *getattr(settings, "WAREHOUSE_API_HOSTS", []), *extra):
        host = host.strip().strip("[]").lower()
        address = _as_ip(host)
        host = str(address) if address else host
        if host and host not in hosts and host not in ("0.0.0.0", "::"):
            hosts.append(host)
    return hosts


def ensure_certificates(state_dir: Path | None = None, hosts: Iterable[str] = ()) -> CertPaths:
    """Make or reuse the CA and a server certificate valid for every required host.

    A file lock keeps two processes (say ``serve`` and ``kubeconfig``) from making
    two different CAs at the same moment.
    """
    paths = cert_paths(state_dir)
    wanted = required_hosts(hosts)
    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(paths.directory / ".lock"):
        ca_cert, ca_key = _load_pair(paths.ca_cert, paths.ca_key)
        now = _now()
        if ca_cert is None or ca_key is None or ca_cert.not_valid_after_utc <= now:
            ca_cert, ca_key = _make_ca()
            _write_pair(paths.ca_cert, paths.ca_key, ca_cert, ca_key)
            # A new CA invalidates whatever the old one signed.
            paths.server_cert.unlink(missing_ok=True)
        server_cert, server_key = _load_pair(paths.server_cert, paths.server_key)
        if server_cert is None or _needs_renewal(server_cert, ca_cert, wanted, now):
            # Keep names the old certificate had, so adding a host never drops another.
            names = wanted + [n for n in _names_in(server_cert) if n not in wanted]
            server_cert, server_key = _make_server(ca_cert, ca_key, names)
            _write_pair(paths.server_cert, paths.server_key, server_cert, server_key)
    return paths


def ca_pem(state_dir: Path | None = None) -> bytes:
    """The CA certificate in PEM, as kubeconfigs embed it; made on first use."""
    return ensure_certificates(state_dir).ca_cert.read_bytes()


def server_hosts(state_dir: Path | None = None) -> list[str]:
    """The names and addresses the current server certificate is valid for."""
    cert, _ = _load_pair(cert_paths(state_dir).server_cert, None)
    return _names_in(cert)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _load_pair(
    cert_path: Path, key_path: Path | None
) -> tuple[x509.Certificate | None, ec.EllipticCurvePrivateKey | None]:
    """Read a certificate and its key; a missing or unreadable file reads as None."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return None, None
    if key_path is None:
        return cert, None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None, None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None, None
    return cert, key


def _write_pair(
    cert_path: Path, key_path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_atomically(key_path, key_pem, 0o600)
    _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write beside the target, then rename, so readers never see half a key."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _make_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Warehouse"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Warehouse CA ({socket.gethostname()})"),
        ]
    )
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_server(
    ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, hosts: list[str]
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        address = _as_ip(host)
        alt_names.append(x509.IPAddress(address) if address else x509.DNSName(host))
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "warehouse-apiserver")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _as_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _names_in(cert: x509.Certificate | None) -> list[str]:
    if cert is None:
        return []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names + [name.lower() for name in san.get_values_for_type(x509.DNSName)]


def _needs_renewal(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    wanted: list[str],
    now: datetime.datetime,
) -> bool:
    if cert.not_valid_after_utc - RENEW_BEFORE <= now:
        return True
    if not set(wanted) <= set(_names_in(cert)):
        return True
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return True
    return False
