"""The server-side logo fetcher: what it accepts, what it refuses, and that it refuses safely."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import responses

from provider_auth.flatpeak import logo as logo_module
from provider_auth.flatpeak.logo import (
    MAX_BYTES,
    LogoRefused,
    address_allowed,
    logo_fetch,
    logo_sniff,
    partner_logo_fetch,
)

URL = "https://cdn.heatly.example/logo.png"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + b"\x00" * 14
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Decide what DNS answers (DNS leaves the process); public by default."""
    answer = {"addresses": ["93.184.215.14"]}
    monkeypatch.setattr(logo_module, "host_resolve", lambda host, port: answer["addresses"])

    def set_answer(*addresses: str) -> None:
        answer["addresses"] = list(addresses)

    return set_answer


@pytest.fixture
def remote(resolves_to: Any) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
)
def test_an_image_of_an_allowed_type_with_matching_bytes_is_fetched(
    remote: responses.RequestsMock, body: bytes, content_type: str
) -> None:
    remote.get(URL, body=body, content_type=content_type)
    logo = logo_fetch(url=URL)
    assert (logo.content, logo.content_type) == (body, content_type)


def test_the_request_carries_no_credentials_and_asks_for_no_compression(
    remote: responses.RequestsMock, settings: Any
) -> None:
    settings.FLATPEAK_ACCOUNT_ID, settings.FLATPEAK_API_KEY = "acc_provider", "sk_live_secret"
    remote.get(URL, body=PNG, content_type="image/png; charset=binary")
    logo_fetch(url=URL)
    sent = remote.calls[0].request
    assert "Authorization" not in sent.headers and "Cookie" not in sent.headers
    assert sent.headers["Accept-Encoding"] == "identity"
    assert sent.headers["Host"] == "cdn.heatly.example"


@pytest.mark.spec("ASVS 12.1.1")
def test_a_body_over_the_size_cap_is_refused(remote: responses.RequestsMock) -> None:
    remote.get(URL, body=PNG + b"\x00" * MAX_BYTES, content_type="image/png")
    with pytest.raises(LogoRefused, match="larger than"):
        logo_fetch(url=URL)


@pytest.mark.spec("ASVS 12.2.1")
def test_bytes_that_are_not_the_declared_type_are_refused(remote: responses.RequestsMock) -> None:
    remote.get(URL, body=b"<html><script>alert(1)</script></html>", content_type="image/png")
    with pytest.raises(LogoRefused, match="not an allowed image"):
        logo_fetch(url=URL)


def test_a_gif_declared_as_png_is_refused(remote: responses.RequestsMock) -> None:
    remote.get(URL, body=GIF, content_type="image/png")
    with pytest.raises(LogoRefused, match="image/gif, not image/png"):
        logo_fetch(url=URL)


@pytest.mark.spec("ASVS 12.2.1")
@pytest.mark.parametrize("content_type", ["image/svg+xml", "image/png"])
def test_svg_is_refused_whatever_its_declared_type(
    remote: responses.RequestsMock, content_type: str
) -> None:
    remote.get(URL, body=SVG, content_type=content_type)
    with pytest.raises(LogoRefused):
        logo_fetch(url=URL)


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream", ""])
def test_a_type_outside_the_allowlist_is_refused(
    remote: responses.RequestsMock, content_type: str
) -> None:
    remote.get(URL, body=PNG, headers={"Content-Type": content_type})
    with pytest.raises(LogoRefused, match="not an allowed image type"):
        logo_fetch(url=URL)


def test_a_compressed_body_is_refused_rather_than_inflated(
    remote: responses.RequestsMock,
) -> None:
    remote.get(URL, body=PNG, content_type="image/png", headers={"Content-Encoding": "gzip"})
    with pytest.raises(LogoRefused, match="content encoding"):
        logo_fetch(url=URL)


@pytest.mark.spec("ASVS 12.6.1")
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed(remote: responses.RequestsMock, status: int) -> None:
    inside = "https://cdn.heatly.example/internal.png"
    remote.get(URL, status=status, headers={"Location": inside})
    remote.get(inside, body=PNG, content_type="image/png")
    with pytest.raises(LogoRefused, match="redirect"):
        logo_fetch(url=URL)
    assert [c.request.url for c in remote.calls] == [URL]


def test_an_error_status_is_refused(remote: responses.RequestsMock) -> None:
    remote.get(URL, status=404, body=PNG, content_type="image/png")
    with pytest.raises(LogoRefused, match="HTTP 404"):
        logo_fetch(url=URL)


@pytest.mark.spec("ASVS 12.6.1")
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_a_host_resolving_to_a_private_address_is_refused(
    remote: responses.RequestsMock, resolves_to: Any, address: str
) -> None:
    resolves_to(address)
    remote.get(URL, body=PNG, content_type="image/png")
    with pytest.raises(LogoRefused, match="non-public address"):
        logo_fetch(url=URL)
    assert len(remote.calls) == 0


def test_one_private_address_among_public_ones_refuses_the_host(
    remote: responses.RequestsMock, resolves_to: Any
) -> None:
    resolves_to("93.184.215.14", "10.0.0.1")
    remote.get(URL, body=PNG, content_type="image/png")
    with pytest.raises(LogoRefused, match="non-public address"):
        logo_fetch(url=URL)


def test_private_addresses_and_http_are_allowed_when_debug(
    remote: responses.RequestsMock, resolves_to: Any, settings: Any
) -> None:
    settings.DEBUG = True  # the demo sandbox serves persona logos from 127.0.0.1
    resolves_to("127.0.0.1")
    remote.get("http://127.0.0.1:8000/static/logo.png", body=PNG, content_type="image/png")
    assert logo_fetch(url="http://127.0.0.1:8000/static/logo.png").content == PNG


@pytest.mark.parametrize(
    "url", ["http://cdn.heatly.example/logo.png", "javascript:alert(1)", "ftp://x.example/l.png"]
)
def test_anything_but_https_is_refused_without_debug(
    remote: responses.RequestsMock, url: str
) -> None:
    with pytest.raises(LogoRefused, match="not an https URL"):
        logo_fetch(url=url)
    assert len(remote.calls) == 0


def test_a_host_that_does_not_resolve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    monkeypatch.setattr(logo_module, "host_resolve", fail)
    with pytest.raises(LogoRefused, match="does not resolve"):
        logo_fetch(url=URL)


def test_address_checks_hold_without_debug(settings: Any) -> None:
    settings.DEBUG = False
    assert address_allowed("93.184.215.14") and address_allowed("2606:2800:21f:cb07::1")
    assert not address_allowed("127.0.0.1") and not address_allowed("not-an-ip")


def test_magic_bytes_name_the_real_type() -> None:
    assert [logo_sniff(b) for b in (PNG, JPEG, GIF, WEBP, SVG, b"")] == [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "",
        "",
    ]


def test_a_refusal_is_logged_with_its_reason_and_never_breaks_the_caller(
    remote: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    remote.get(URL, body=SVG, content_type="image/svg+xml")
    with caplog.at_level(logging.WARNING, logger="provider_auth.flatpeak.logo"):
        assert partner_logo_fetch(url=URL, label="cot_…a97") is None
    assert "cot_…a97" in caplog.text and "image/svg+xml" in caplog.text
    assert partner_logo_fetch(url="", label="cot_…a97") is None


# --- Against a real socket on loopback: pinning, streaming cap, slow drip -----------------------
class _Handler(BaseHTTPRequestHandler):
    mode = "ok"
    seen_hosts: list[str] = []  # noqa: RUF012 (shared by the test on purpose)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen_hosts.append(self.headers.get("Host", ""))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if self.mode == "ok":
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)
        elif self.mode == "endless":  # no Content-Length: only the streamed count can stop it
            self.end_headers()
            self.wfile.write(PNG)
            try:
                for _ in range(1000):
                    self.wfile.write(b"\x00" * 8192)
            except OSError:
                pass
        elif self.mode == "drip":
            self.end_headers()
            self.wfile.write(PNG)
            try:
                for _ in range(50):
                    self.wfile.write(b"\x00" * 16)
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def loopback_server(settings: Any, resolves_to: Any) -> Iterator[tuple[str, type[_Handler]]]:
    settings.DEBUG = True  # loopback and http are allowed only when DEBUG
    handler = type("Handler", (_Handler,), {"seen_hosts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    resolves_to("127.0.0.1")
    try:
        yield f"http://logo.heatly.test:{server.server_address[1]}/logo.png", handler
    finally:
        server.shutdown()
        server.server_close()


def test_the_connection_goes_to_the_checked_address_with_the_original_host_name(
    loopback_server: tuple[str, type[_Handler]],
) -> None:
    # logo.heatly.test does not exist in real DNS: the fetch works only because it is pinned.
    url, handler = loopback_server
    assert logo_fetch(url=url).content == PNG
    assert handler.seen_hosts == [url.split("/")[2]]


def test_a_body_without_length_is_cut_at_the_cap_while_streaming(
    loopback_server: tuple[str, type[_Handler]],
) -> None:
    url, handler = loopback_server
    handler.mode = "endless"
    with pytest.raises(LogoRefused, match="larger than"):
        logo_fetch(url=url)


def test_a_slow_drip_is_abandoned_at_the_total_deadline(
    loopback_server: tuple[str, type[_Handler]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = loopback_server
    handler.mode = "drip"
    monkeypatch.setattr(logo_module, "TOTAL_DEADLINE", 0.5)
    started = time.monotonic()
    with pytest.raises(LogoRefused, match="too slow"):
        logo_fetch(url=url)
    assert time.monotonic() - started < 2.0


def _self_signed(tmp_path: Any, host: str) -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_https_is_pinned_too_and_still_verifies_the_certificate_for_the_host_name(
    tmp_path: Any, settings: Any, resolves_to: Any
) -> None:
    import socket
    import ssl

    settings.DEBUG = True  # the TLS server listens on loopback
    host = "logo.heatly.test"  # not in DNS: reached only through the pinned address
    cert, key = _self_signed(tmp_path, host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_once() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refuses our self-signed certificate: that is the point

    thread = threading.Thread(target=accept_once, daemon=True)
    thread.start()
    resolves_to("127.0.0.1")
    try:
        with pytest.raises(LogoRefused, match="SSLError"):
            logo_fetch(url=f"https://{host}:{port}/logo.png")
        thread.join(timeout=5)
    finally:
        listener.close()
    assert server_names == [host]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 well-known prefix → 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # → 169.254.169.254 (cloud metadata)
        "64:ff9b::a00:1",  # → 10.0.0.1
        "64:ff9b:1::a00:1",  # NAT64 local-use prefix (embedding position unknown)
        "64:ff9b:1:808:808::",  # … even where a /48 embedding would read 8.8.8.8
        "2002:7f00:1::1",  # 6to4 → 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 → 169.254.169.254
        "::7f00:1",  # IPv4-compatible ::127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible ::169.254.169.254
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "2001:0:5ef5:79fd:0:0:80ff:fffe",  # Teredo, client 127.0.0.1 (obfuscated)
        "2001:0:a00:1:0:0:f7f7:f7f7",  # Teredo, server 10.0.0.1
    ],
)
@pytest.mark.spec("ASVS 12.6.1")
def test_ipv6_addresses_embedding_a_private_ipv4_are_refused(settings: Any, address: str) -> None:
    settings.DEBUG = False
    assert not address_allowed(address)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::808:808",  # NAT64 → 8.8.8.8
        "2002:808:808::1",  # 6to4 → 8.8.8.8
        "::ffff:8.8.8.8",
        "2001:0:5ef5:79fd:0:0:f7f7:f7f7",  # Teredo: public server, client 8.8.8.8
    ],
)
def test_ipv6_addresses_embedding_a_public_ipv4_are_allowed(settings: Any, address: str) -> None:
    settings.DEBUG = False
    assert address_allowed(address)


def test_a_host_resolving_to_nat64_of_the_metadata_address_is_refused(
    remote: responses.RequestsMock, resolves_to: Any
) -> None:
    resolves_to("64:ff9b::a9fe:a9fe")
    remote.get(URL, body=PNG, content_type="image/png")
    with pytest.raises(LogoRefused, match="non-public address"):
        logo_fetch(url=URL)
    assert len(remote.calls) == 0
