"""The local broker's certificates are what Kafka accepts: PKCS#8 keys in 0600 files, SANs for
localhost and 127.0.0.1, valid for server and client authentication, signed by the local CA."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from infra.kafka.tls import BROKER_CN, BrokerTls


def test_the_broker_certificate_and_keys_are_made_once_as_kafka_needs_them(
    tmp_path: Path,
) -> None:
    """ensure() makes CA and keystore once; the keystore is key, broker cert, CA cert."""
    tls = BrokerTls(tmp_path / "tls")
    assert tls.ensure() is True
    assert tls.ensure() is False
    for private in (tls.keystore, tls.ca_key):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    pem = tls.keystore.read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    broker, ca = x509.load_pem_x509_certificates(pem.split("-----END PRIVATE KEY-----")[1].encode())
    assert ca.subject == x509.load_pem_x509_certificate(tls.ca_cert.read_bytes()).subject
    assert broker.subject.rfc4514_string() == f"CN={BROKER_CN}"
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usage = broker.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usage) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    broker.verify_directly_issued_by(ca)
