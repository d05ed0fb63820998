"""Comments as readers write them: a small Markdown subset rendered to HTML that is safe to show as it is.

Owns the subset, the comment allow-list and the length rule; publisher HTML has its own, wider allow-list in
extract/sanitize.py. Storing the body beside its rendering is the store's.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from broadsheet.urls import absolute_url

__all__ = ["COMMENT_TAGS", "LINK_REL", "LINK_SCHEMES", "MAX_COMMENT", "check_comment", "render_comment"]

MAX_COMMENT = 10_000
LINK_SCHEMES = ("http", "https", "mailto")
# ugc and nofollow: search engines give readers' links no weight, so links posted for rank are worth nothing.
LINK_REL = "nofollow ugc noopener"
COMMENT_TAGS = frozenset(
    {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a"},
)
# "*": nothing, or nh3 would keep its default generic attributes (title, lang) on every tag.
_ATTRIBUTES: dict[str, set[str]] = {"*": set(), "a": {"href"}, "ol": {"start"}}
# Images would let a comment load anything from anywhere in every reader's browser (tracking pixels); headings,
# rules and setext underlines would let a comment dress up as the page around it. Their text stays, as typed.
_LEFT_OUT = ["image", "heading", "lheading", "hr", "html_block", "html_inline"]


def _link(url: str) -> str:
    """`url` when it is an absolute http(s) or mailto address, else "": relative links would point into this site
    (a moderator's click on "/admin/…" from a comment), and other schemes run or fetch things."""
    return absolute_url("", url, schemes=LINK_SCHEMES)


class _CommentMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # markdown-it's hook: a refused link stays text, as typed
        return bool(_link(url))


# html=False escapes raw HTML as text; breaks=True because readers expect a new line where they pressed Enter.
_MARKDOWN = _CommentMarkdown("commonmark", {"html": False, "breaks": True, "xhtmlOut": False}).disable(
    _LEFT_OUT
)


def check_comment(body: str) -> str | None:
    """Why `body` cannot be posted as a comment, in words the reader can act on; None when it can."""
    if not body.strip():
        return "A comment needs some text."
    if len(body) > MAX_COMMENT:
        return f"A comment has at most {MAX_COMMENT:,} characters; this one has {len(body):,}: shorten it."
    return None


def render_comment(body: str) -> str:
    """`body` (comment Markdown) as HTML with only `COMMENT_TAGS`: paragraphs, line breaks, bold, italic, code,
    quotes, lists, and links to http(s) or mailto addresses with rel="nofollow ugc noopener". Raw HTML shows as
    text. nh3 checks markdown-it's output again with its own URL parser, so a flaw in either alone lets nothing
    through."""
    return nh3.clean(
        _MARKDOWN.render(body),
        tags=set(COMMENT_TAGS),
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
    ).strip()
