import datetime
import ipaddress
import socket
import ssl
import stat
import threading

import pytest
from cryptography import x509

from apiserver.server import tls


@pytest.fixture
def state_dir(tmp_path, settings):
    settings.STATE_DIR = tmp_path
    settings.WAREHOUSE_API_HOSTS = []
    return tmp_path


def _load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _sans(path) -> set[str]:
    san = _load(path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} | set(
        san.get_values_for_type(x509.DNSName)
    )


def test_first_use_creates_ca_and_server_certificate(state_dir):
    paths = tls.ensure_certificates()

    assert paths.directory == state_dir / "tls"
    ca = _load(paths.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > datetime.timedelta(days=3600)
    _load(paths.server_cert).verify_directly_issued_by(ca)


def test_second_use_reuses_every_file(state_dir):
    first = tls.ensure_certificates()
    before = {p: p.read_bytes() for p in (first.ca_cert, first.ca_key, first.server_cert)}

    second = tls.ensure_certificates()

    assert second == first
    assert {p: p.read_bytes() for p in before} == before
    assert tls.ca_pem() == before[first.ca_cert]


def test_server_certificate_names_loopback_hosts(state_dir):
    paths = tls.ensure_certificates()

    assert {"127.0.0.1", "::1", "localhost"} <= _sans(paths.server_cert)
    assert tls.server_hosts() == ["127.0.0.1", "::1", "localhost"]


def test_private_keys_are_readable_by_owner_only(state_dir):
    paths = tls.ensure_certificates()

    for key in (paths.ca_key, paths.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.directory.stat().st_mode) == 0o700


def test_tls_handshake_verifies_against_the_ca(state_dir):
    """What kubectl does: trust only the CA from the kubeconfig, check the host name."""
    paths = tls.ensure_certificates()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(paths.server_cert, paths.server_key)
    client_context = ssl.create_default_context(cadata=tls.ca_pem().decode())
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept(count: int) -> None:
        for _ in range(count):
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls_conn:
                tls_conn.recv(1)

    thread = threading.Thread(target=accept, args=(2,), daemon=True)
    thread.start()
    for name in ("127.0.0.1", "localhost"):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client_context.wrap_socket(raw, server_hostname=name) as conn,
        ):
            assert conn.version() in ("TLSv1.2", "TLSv1.3")
            conn.sendall(b"x")
    thread.join(timeout=5)
    listener.close()


def test_a_new_host_renews_the_server_certificate_but_keeps_the_ca(state_dir, settings):
    first = tls.ensure_certificates()
    ca_before = first.ca_cert.read_bytes()
    settings.WAREHOUSE_API_HOSTS = ["warehouse.example", "10.0.0.7"]

    tls.ensure_certificates(hosts=["shop.local"])

    assert first.ca_cert.read_bytes() == ca_before
    assert {"warehouse.example", "10.0.0.7", "shop.local", "localhost"} <= _sans(first.server_cert)


def test_wildcard_listen_addresses_are_not_put_in_the_certificate(state_dir):
    paths = tls.ensure_certificates(hosts=["0.0.0.0", "::", "[::1]"])

    assert _sans(paths.server_cert) == {"127.0.0.1", "::1", "localhost"}


def test_an_expiring_server_certificate_is_renewed(state_dir, monkeypatch):
    paths = tls.ensure_certificates()
    old_serial = _load(paths.server_cert).serial_number
    later = datetime.datetime.now(datetime.UTC) + tls.SERVER_LIFETIME - datetime.timedelta(days=1)
    monkeypatch.setattr(tls, "_now", lambda: later)

    tls.ensure_certificates()

    renewed = _load(paths.server_cert)
    assert renewed.serial_number != old_serial
    assert renewed.not_valid_after_utc > later + tls.RENEW_BEFORE


def test_a_lost_server_key_is_replaced(state_dir):
    paths = tls.ensure_certificates()
    paths.server_key.write_text("not a key")

    tls.ensure_certificates()

    key = paths.server_key.read_bytes()
    assert key.startswith(b"-----BEGIN PRIVATE KEY-----")
    _load(paths.server_cert).verify_directly_issued_by(_load(paths.ca_cert))


def test_a_lost_ca_makes_a_new_ca_and_server_certificate(state_dir):
    paths = tls.ensure_certificates()
    old_ca = paths.ca_cert.read_bytes()
    paths.ca_key.unlink()

    tls.ensure_certificates()

    assert paths.ca_cert.read_bytes() != old_ca
    _load(paths.server_cert).verify_directly_issued_by(_load(paths.ca_cert))


def test_ip_hosts_become_ip_address_entries(state_dir):
    paths = tls.ensure_certificates(hosts=["192.0.2.1"])

    san = _load(paths.server_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert ipaddress.ip_address("192.0.2.1") in san.value.get_values_for_type(x509.IPAddress)
    assert "192.0.2.1" not in san.value.get_values_for_type(x509.DNSName)
