"""Per-kind HTTP policy: the Accept header sent and the content types accepted for feeds, pages, robots.txt.

Pure functions; the decision to raise lives here so every caller refuses the same things with the same words.
"""

from __future__ import annotations

from broadsheet.errors import ContentTypeError
from broadsheet.fetch.result import FetchKind

__all__ = ["accept_header", "check_content_type"]

_ACCEPT: dict[FetchKind, str] = {
    "feed": (
        "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
        "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1"
    ),
    "page": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5, */*;q=0.1",
    "robots": "text/plain, */*;q=0.1",
    "image": "image/avif, image/webp, image/png, image/jpeg, image/gif;q=0.9",
    "any": "*/*",
}

# Families that are never text broadsheet could read, whatever the kind asked for.
_MEDIA_FAMILIES = ("image/", "audio/", "video/", "font/", "model/")


def accept_header(kind: FetchKind) -> str:
    return _ACCEPT[kind]


def _is_feed_type(media: str) -> bool:
    # text/html is accepted because a feed URL that serves HTML is the start of feed discovery.
    # octet-stream is accepted because static hosts serve .rss/.xml files with it; the parser sniffs.
    # gzip files are sitemap.xml.gz, served as a file rather than with Content-Encoding.
    return (
        media in {"application/xml", "text/xml", "application/json", "text/json", "text/plain"}
        or media in {"text/html", "application/xhtml+xml", "application/octet-stream"}
        or media in {"application/gzip", "application/x-gzip"}
        or media.endswith(("+xml", "+json"))
    )


def _is_page_type(media: str) -> bool:
    return media in {"text/html", "application/xhtml+xml", "text/plain"}


# Raster formats only: an SVG served from broadsheet's own origin could carry script.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"})


def check_content_type(media: str, kind: FetchKind, url: str) -> None:
    """Raise ContentTypeError when `media` (lowercased, no parameters) is not readable as `kind`.

    A missing Content-Type is accepted: the body is sniffed downstream. robots.txt accepts anything because
    an HTML error page served as robots.txt simply parses to "no rules".
    """
    if kind == "image":
        if media not in IMAGE_TYPES:
            raise ContentTypeError(f"{url} served {media or 'no content type'}, not a JPEG, PNG, GIF, WebP or AVIF "
                                   "image; only those are passed through the image proxy", url)  # fmt: skip
        return
    if not media or kind == "robots":
        return
    if media.startswith(_MEDIA_FAMILIES) or media == "application/pdf":
        allowed = False
    elif kind == "feed":
        allowed = _is_feed_type(media)
    elif kind == "page":
        allowed = _is_page_type(media)
    else:
        allowed = True
    if not allowed:
        wanted = {"feed": "a feed (RSS, Atom, JSON Feed or HTML)", "page": "an HTML page"}.get(kind, "text")
        raise ContentTypeError(
            f"{url} served {media}, not {wanted}; check that the URL points at the {kind}, not a file",
            url,
        )
