"""Redirects (followed by hand, bounded, loop-checked) and retries (backoff, Retry-After) on a real server."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fetch_helpers import fetch

from broadsheet.config import Settings
from broadsheet.errors import HTTPStatusError, NetworkError, RedirectError, UnsafeURLError
from publisher import Publisher, sequence


def test_redirect_chain_is_followed_to_the_final_url(publisher: Publisher, settings: Settings) -> None:
    publisher.redirect("/old", publisher.url("/moved"), status=301)
    publisher.redirect("/moved", "final", status=307)  # relative Location, resolved against /moved
    publisher.add("/final", "<p>here</p>")

    result = fetch(settings, publisher.url("/old"))

    assert result.url == publisher.url("/final")
    assert result.content == b"<p>here</p>"


def test_redirect_across_hosts_is_followed(
    publisher: Publisher, publisher2: Publisher, settings: Settings
) -> None:
    publisher.redirect("/go", publisher2.url("/there"))
    publisher2.add("/there", "ok")

    assert fetch(settings, publisher.url("/go")).url == publisher2.url("/there")


def test_more_redirects_than_max_redirects_are_refused(publisher: Publisher, settings: Settings) -> None:
    for hop in range(3):
        publisher.redirect(f"/r{hop}", f"/r{hop + 1}")
    publisher.add("/r3", "too far")

    with pytest.raises(RedirectError, match="max_redirects"):
        fetch(settings.model_copy(update={"max_redirects": 2}), publisher.url("/r0"))
    assert publisher.hits("/r3") == 0


def test_redirect_loop_is_refused(publisher: Publisher, settings: Settings) -> None:
    publisher.redirect("/x", "/y")
    publisher.redirect("/y", "/x")

    with pytest.raises(RedirectError, match="loop"):
        fetch(settings, publisher.url("/x"))
    assert publisher.hits("/x") == 1


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://127.0.0.1:25/"])
def test_redirect_to_a_non_http_scheme_is_refused(
    publisher: Publisher, settings: Settings, target: str
) -> None:
    publisher.redirect("/bad", target)

    with pytest.raises(UnsafeURLError, match="only http and https"):
        fetch(settings, publisher.url("/bad"))


def test_redirect_without_location_is_an_error(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/nowhere", "", status=302)

    with pytest.raises(RedirectError, match="Location"):
        fetch(settings, publisher.url("/nowhere"))


def test_429_with_retry_after_zero_then_200_succeeds_after_one_retry(
    publisher: Publisher, settings: Settings
) -> None:
    publisher.add_handler("/feed", sequence([(429, {"Retry-After": "0"}, b""), (200, {}, b"fresh")]))

    assert fetch(settings, publisher.url("/feed")).content == b"fresh"
    assert publisher.hits("/feed") == 2


def test_503_is_retried_then_reported_with_its_status(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/down", "maintenance", status=503)

    with pytest.raises(HTTPStatusError) as caught:
        fetch(settings.model_copy(update={"retries": 2}), publisher.url("/down"))

    assert caught.value.status == 503
    assert caught.value.transient
    assert publisher.hits("/down") == 3


def test_long_retry_after_is_not_waited_for(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/busy", "", status=429, headers={"Retry-After": "3600"})

    with pytest.raises(HTTPStatusError, match="max_retry_after") as caught:
        fetch(settings.model_copy(update={"max_retry_after": 60}), publisher.url("/busy"))

    assert caught.value.retry_after == 3600  # handed to the scheduler, which moves the next poll
    assert publisher.hits("/busy") == 1  # no retry, so no wait before one


def test_404_is_reported_and_not_retried(publisher: Publisher, settings: Settings) -> None:
    with pytest.raises(HTTPStatusError, match=r"HTTP 404 Not Found.*check the URL") as caught:
        fetch(settings.model_copy(update={"retries": 3}), publisher.url("/gone"), kind="feed")

    assert caught.value.status == 404
    assert not caught.value.transient
    assert caught.value.url == publisher.url("/gone")
    assert publisher.hits("/gone") == 1


def test_dropped_connection_is_retried(publisher: Publisher, settings: Settings) -> None:
    calls: list[int] = []

    def flaky(request: BaseHTTPRequestHandler) -> None:
        calls.append(1)
        if len(calls) == 1:
            request.close_connection = True  # hang up without a response
            return
        request.send_response(200)
        request.send_header("Content-Length", "2")
        request.end_headers()
        request.wfile.write(b"ok")

    publisher.add_handler("/flaky", flaky)

    assert fetch(settings, publisher.url("/flaky")).content == b"ok"
    assert len(calls) == 2


def test_connection_refused_is_a_network_error(settings: Settings) -> None:
    with Publisher() as closed:
        url = closed.url("/")
    with pytest.raises(NetworkError, match="network error"):
        fetch(settings.model_copy(update={"retries": 1}), url)


def test_untrusted_certificate_is_a_tls_error_not_retried(tmp_path: Path, settings: Settings) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    self_signed = ["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        ["openssl", "req", *self_signed, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    with Publisher(tls=context) as secure, pytest.raises(NetworkError, match="TLS") as caught:
        fetch(settings, secure.url("/feed"))

    assert not caught.value.transient
