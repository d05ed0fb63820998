"""Canonical URLs: one article reached through two feeds, tracking links or http/https is stored once.

Pure string work; which URL a page *declares* canonical is decided by the pipeline (same-site check).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from broadsheet.urls import ascii_host, host_of

__all__ = ["TRACKING_PARAMS", "canonical_url", "registrable_domain", "same_site"]

# Parameters that only say where a click came from. Prefix matches end with "_".
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "wickedid", "rb_clickid", "s_cid", "cmpid", "ncid", "ocid", "icid", "sr_share", "smid",
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "ito", "cid_source",
        "fb_action_ids", "fb_action_types", "fb_ref", "fb_source", "action_object_map", "action_type_map",
        "action_ref_map", "spm", "share", "ref_src", "ref_url", "rss", "ns_source", "ns_mchannel", "ns_campaign",
        "ns_linkname", "ns_fee", "ref", "src", "feature",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_", "ns_", "trk_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED_PATH = "/:@!$&'()*+,;=-._~%"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Normalise `url` for identity: lower-case scheme and host, no default port, no fragment, no tracking
    parameters, stable percent-encoding, https preferred over http (publishers serve both).

    The path's case and trailing slash are kept: servers may tell them apart.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url.strip()
    hostname = (parts.hostname or "").rstrip(".")
    host = ascii_host(hostname)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the URL as given rather than guess
        return url.strip()
    if hostname and not host:  # a name IDNA refuses: likewise
        return url.strip()
    netloc = f"[{host}]" if ":" in host else host  # urlsplit took the brackets off an IPv6 literal
    if port and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = quote(unquote(parts.path), safe=_UNRESERVED_PATH) or "/"
    path = re.sub(r"/{2,}", "/", path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    # http and https copies of one page are one article; prefer https as browsers do.
    scheme = "https" if scheme == "http" and (not port or port == 80) else scheme
    return urlunsplit((scheme, netloc, path, urlencode(query, quote_via=quote), ""))


_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go", "gv", "nic"})


def registrable_domain(host: str) -> str:
    """The domain a publisher registered, approximated without a public-suffix download:
    "news.example.co.uk" -> "example.co.uk", "www.example.com" -> "example.com"."""
    labels = host.lower().rstrip(".").split(".")
    if labels[-1].isdigit() or ":" in host:  # an IP address is its own site
        return host.lower()
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(a: str, b: str) -> bool:
    """True when two URLs belong to one publisher's site: www.example.com and news.example.com do,
    example.co.uk and other.co.uk don't."""
    ha, hb = host_of(a), host_of(b)
    return bool(ha and hb) and registrable_domain(ha) == registrable_domain(hb)
