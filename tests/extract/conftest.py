"""Invented article pages for the extraction tests: a fictional local news story with configurable furniture.

Every name, place and sentence here is made up for these tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

PARAGRAPHS = (
    "The town council of Larkspur Bay voted on Tuesday evening to turn the disused tram depot on Quay Street "
    "into a covered market, ending a debate that has run through four budget rounds and two public petitions.",
    "Under the plan, forty stalls will open under the restored iron roof next spring, with the ground floor "
    "reserved for growers from the valley farms and the gallery set aside for repair workshops and a reading room.",
    "Councillor Imogen Threlkeld, who chairs the planning committee, said the depot had stood empty for eleven "
    "years and that every winter of neglect had added to the cost of saving its glazed lantern roof.",
    "Residents on the neighbouring terraces raised concerns about delivery vans in the narrow lanes. The council "
    "answered with a loading bay on the harbour side and a rule that deliveries end before eight in the morning.",
    "Work on the roof is due to begin in the first week of the new year, once the scaffolding contract is signed, "
    "and the market hall is expected to welcome its first traders by the middle of May.",
)
TITLE = "Larkspur Bay to turn old tram depot into covered market"


def build_page(
    *,
    head: str = "",
    before: str = "",
    after: str = "",
    paragraphs: tuple[str, ...] = PARAGRAPHS,
    html_attrs: str = ' lang="en-GB"',
    charset: str = "utf-8",
) -> str:
    """A complete invented news page: site chrome around an <article> holding `paragraphs`."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html{html_attrs}>
<head>
<meta charset="{charset}">
<title>{TITLE} | The Larkspur Ledger</title>
{head}
</head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/local">Local</a></li>
<li><a href="/sport">Sport</a></li></ul></nav></header>
<main>
<article>
<h1>{TITLE}</h1>
{before}
{body}
{after}
</article>
</main>
<footer><p>The Larkspur Ledger, 4 Harbour Row, Larkspur Bay</p><p><a href="/privacy">Privacy</a></p></footer>
</body>
</html>"""


@pytest.fixture
def make_page() -> Callable[..., str]:
    return build_page


@pytest.fixture
def paragraphs() -> tuple[str, ...]:
    return PARAGRAPHS
