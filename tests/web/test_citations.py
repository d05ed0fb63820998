"""Anchors for cited sentences in stored article HTML (web/citations.py)."""

from __future__ import annotations

from broadsheet.web.citations import mark_sentences, paragraphs_html


def test_a_sentence_in_one_run_of_text_is_wrapped() -> None:
    html = "<p>The mayor of Brindlecombe opened the bridge. Crowds lined the river banks.</p>"
    marked, placed = mark_sentences(html, {1: "Crowds lined the river banks."})
    assert placed == {1}
    assert '<span id="s-1" class="cite">Crowds lined the river banks.</span></p>' in marked


def test_a_sentence_across_inline_tags_gets_an_anchor_where_it_starts() -> None:
    html = (
        '<p>Officials said the <a href="https://example.org/x">new bridge</a> cost four million pounds.</p>'
    )
    marked, placed = mark_sentences(html, {0: "Officials said the new bridge cost four million pounds."})
    assert placed == {0}
    assert marked.startswith('<p><span id="s-0" class="cite cite-start"></span>Officials said the <a')


def test_escaped_characters_and_collapsed_whitespace_still_match() -> None:
    html = "<p>Profits at Hale &amp; Sons rose\n  by 4% &lt;again&gt; this year.</p>"
    marked, placed = mark_sentences(html, {3: "Profits at Hale & Sons rose by 4% <again> this year."})
    assert placed == {3}
    assert 'id="s-3"' in marked


def test_text_inside_an_attribute_is_never_taken_for_the_sentence() -> None:
    sentence = "The ferry left the harbour at dawn."
    html = f'<figure><img src="a.jpg" alt="{sentence}"></figure><p>{sentence}</p>'
    marked, placed = mark_sentences(html, {0: sentence})
    assert placed == {0}
    assert f'alt="{sentence}"' in marked
    assert f'<p><span id="s-0" class="cite">{sentence}</span></p>' in marked


def test_a_sentence_not_in_the_html_gets_no_anchor() -> None:
    marked, placed = mark_sentences("<p>Only this is here.</p>", {2: "Something the page never said."})
    assert placed == frozenset()
    assert "s-2" not in marked


def test_two_cited_sentences_that_repeat_each_take_their_own_occurrence() -> None:
    html = "<p>It rained.</p><p>It rained.</p>"
    marked, placed = mark_sentences(html, {0: "It rained.", 1: "It rained."})
    assert placed == {0, 1}
    assert marked.index('id="s-0"') < marked.index('id="s-1"')


def test_paragraphs_html_escapes_text() -> None:
    assert paragraphs_html("A <b> & c\n\nSecond") == "<p>A &lt;b&gt; &amp; c</p><p>Second</p>"
