"""Reading addresses: a link resolved against its page to an absolute URL, and the host that names a site.

Owns resolution and host names; canonical forms for dedupe are `dedupe/urls.py`'s, fetching safely is `fetch/`'s.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urljoin, urlsplit

import idna

__all__ = ["WEB_SCHEMES", "absolute_url", "ascii_host", "host_of"]

WEB_SCHEMES = ("http", "https")

# What a browser drops before reading an href (WHATWG URL): C0 controls and spaces at either end, tabs and
# newlines anywhere; without that, "java\tscript:" would get past the scheme check and still run as a script.
_EDGES = re.compile(r"^[\x00-\x20\s]+|[\x00-\x20\s]+$")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def absolute_url(base: str, href: str | None, *, schemes: Collection[str] = WEB_SCHEMES) -> str:
    """`href` resolved against `base` (the order of urllib's urljoin); "" when it is empty, malformed or of a
    scheme not in `schemes` (javascript:, data:, mailto: unless asked for), or when an http(s) URL has no host.

    "//host/x" takes the scheme of `base`; with no `base`, only an absolute URL gives an answer. The host is kept
    as written (Unicode or IDNA): compare hosts with `host_of`.
    """
    text = _TAB_OR_NEWLINE.sub("", _EDGES.sub("", href or ""))
    if not text:
        return ""
    try:
        joined = urljoin(base, text)
        parts = urlsplit(joined)
    except ValueError:
        return ""  # "http://[oops/": a malformed address is no address
    scheme = parts.scheme.lower()
    if scheme not in schemes or (scheme in WEB_SCHEMES and not parts.hostname):
        return ""
    return joined


def host_of(url: str) -> str:
    """The host that names `url`'s site, for showing and comparing: lower-case, in Unicode (IDNA decoded, so
    "XN--BCHER-KVA.example" and "Bücher.example" are both "bücher.example"), without "www." or a trailing dot;
    "" when the URL has none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""  # a malformed URL simply has no usable host
    host = host.rstrip(".")
    if not host.isascii() or "xn--" in host:
        host = _unicode_host(host)
    return host.removeprefix("www.")


def _unicode_host(host: str) -> str:
    try:
        return idna.decode(host, uts46=True)
    except idna.IDNAError:
        return host  # a name IDNA refuses (an underscore, a symbol) is still the host the link names


def ascii_host(host: str) -> str:
    """`host` as DNS and URIs write it: IDNA with the UTS #46 mapping browsers use ("Straße.example" ->
    "xn--strae-oqa.example"), lower-case; "" when IDNA refuses a non-ASCII name."""
    if host.isascii():
        return host.lower()  # ASCII names, underscores included, need no encoding and IDNA would refuse some
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return ""
