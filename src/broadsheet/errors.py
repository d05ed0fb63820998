"""The errors a broadsheet user can see, as one small hierarchy.

Every message says what went wrong and, where there is one, what to do about it. Per-source failures are
recorded on the source and shown by `source list`; they never stop a crawl.
"""

from __future__ import annotations

__all__ = [
    "AccountError",
    "BadCursorError",
    "BroadsheetError",
    "CommentError",
    "ConfigError",
    "ContentTypeError",
    "ExtractError",
    "FeedError",
    "FetchError",
    "FilterError",
    "HTTPStatusError",
    "ImportLineError",
    "LLMServerError",
    "NetworkError",
    "NotFoundError",
    "QuestionError",
    "RedirectError",
    "ResponseTooLargeError",
    "RobotsDisallowedError",
    "SearchQueryError",
    "SourceError",
    "StoreError",
    "StoriesBusyError",
    "TimeoutError_",
    "UnsafeURLError",
    "UnsafeXMLError",
    "WorkersFailedError",
]


class BroadsheetError(Exception):
    """Base class: the message is meant for the user, as it is."""


class ConfigError(BroadsheetError):
    """A setting has a value that cannot work."""


class StoreError(BroadsheetError):
    """The database could not be opened, migrated or written."""


class NotFoundError(BroadsheetError):
    """Something asked for by id or URL does not exist."""


# --- fetch -------------------------------------------------------------------------------------------------


class FetchError(BroadsheetError):
    """A URL could not be fetched. `url` is the address that failed (after redirects, if any)."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url

    #: Worth retrying later in the same run (connection reset, 429, 5xx).
    transient: bool = False


class UnsafeURLError(FetchError):
    """The URL is not http(s), or its host resolves to an address the SSRF guard refuses."""


class NetworkError(FetchError):
    """DNS, connection, TLS or protocol failure."""

    transient = True


class TimeoutError_(FetchError):
    """The server was too slow: connecting, sending the body, or the whole request over its time cap."""

    transient = True


class HTTPStatusError(FetchError):
    """The server answered with a 4xx/5xx status."""

    def __init__(
        self, message: str, url: str = "", status: int = 0, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url)
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.status == 429 or self.status >= 500


class ResponseTooLargeError(FetchError):
    """The body grew past the size cap; the download was aborted."""


class RedirectError(FetchError):
    """Too many redirects, a redirect loop, or a redirect without a usable Location."""


class ContentTypeError(FetchError):
    """The server sent a kind of content broadsheet does not read here (an image, a PDF, ...)."""


class RobotsDisallowedError(FetchError):
    """robots.txt of the site disallows broadsheet from fetching this page."""


# --- sources and extraction --------------------------------------------------------------------------------


class SourceError(BroadsheetError):
    """A source URL could not be turned into a feed, a sitemap or a page."""


class FeedError(SourceError):
    """A feed or sitemap could not be parsed (malformed XML or JSON, HTML instead of a feed, ...)."""


class UnsafeXMLError(FeedError):
    """The XML declares entities or external references (billion laughs, XXE) and is refused."""


class ExtractError(BroadsheetError):
    """No article text could be extracted from a page."""


class ImportLineError(BroadsheetError):
    """One line of an import file is not a valid article; the line number is in the message."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


class StoriesBusyError(BroadsheetError):
    """Another process is grouping articles into stories right now."""


# --- reading -----------------------------------------------------------------------------------------------


class BadCursorError(BroadsheetError):
    """A list's page cursor was not one this store handed out (edited, truncated, or from another list)."""


class SearchQueryError(BroadsheetError):
    """A search query that cannot be run; the message says what to change."""


class FilterError(BroadsheetError):
    """A list's filter names nothing the list holds (a language none of a story's articles is in); the message
    says what it does hold."""


class QuestionError(BroadsheetError):
    """A question about a story that cannot be asked (empty, too long, control characters)."""


# --- readers' accounts and comments -------------------------------------------------------------------------


class AccountError(BroadsheetError):
    """An account cannot be made or changed as asked (its name is taken, ...); the message says what to do."""


class CommentError(BroadsheetError):
    """A comment cannot be stored as asked (its article is gone, it replies to a comment elsewhere or deleted,
    ...); the message says what to do."""


# --- serving -----------------------------------------------------------------------------------------------


class WorkersFailedError(BroadsheetError):
    """Server workers exit as soon as they start, so starting more would only repeat the failure."""


class LLMServerError(BroadsheetError):
    """The optional LLM's server could not be reached, timed out or refused (settings llm_url, llm_api_key)."""
