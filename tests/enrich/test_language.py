"""Language detection with the real bundled model: headlines and texts in several languages, and "" when unsure.

Every sentence here is invented for these tests.
"""

from __future__ import annotations

import pytest

from broadsheet.enrich.language import LANGUAGES, detect_language


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "Harbour commission votes to close the old ferry terminal for repairs"),
        ("fr", "La mairie de Port-Alder ferme le vieux terminal des ferries pour des travaux"),
        ("de", "Der Stadtrat von Orrin schließt das alte Fährterminal wegen Reparaturen"),
        ("es", "El ayuntamiento cierra la antigua terminal de transbordadores por obras"),
        ("pt", "A câmara municipal fecha o antigo terminal de balsas para obras de reparação"),
        ("it", "Il comune chiude il vecchio terminal dei traghetti per lavori di riparazione"),
        ("nl", "De gemeenteraad sluit de oude veerterminal wegens herstelwerkzaamheden"),
        ("sl", "Občinski svet je zaradi popravil zaprl stari trajektni terminal v pristanišču"),
        ("ru", "Городской совет закрыл старый паромный терминал на ремонт до конца лета"),
        ("ar", "المجلس البلدي يغلق محطة العبارات القديمة من أجل أعمال الصيانة"),
        ("zh", "市议会决定关闭旧渡轮码头进行维修工程"),
        ("ja", "市議会は古いフェリーターミナルを修理のために閉鎖することを決めた"),
    ],
)
def test_headlines_in_several_languages_are_recognised(language: str, title: str) -> None:
    assert detect_language(title, "") == language


def test_the_text_decides_when_the_title_is_too_short() -> None:
    text = (
        "Die Fähre nach Larkspur fällt wegen des Sturms bis Donnerstag aus.\n\n"
        "Die Reederei bietet Busse als Ersatz an und erstattet die Fahrkarten."
    )
    assert detect_language("Orrin 3:1", text) == "de"
    assert detect_language("", text) == "de"


@pytest.mark.parametrize("title", ["", "OK", "3-1", "COVID-19", "Acme Corp.", "  \n  "])
def test_too_little_text_gives_no_answer(title: str) -> None:
    assert detect_language(title, "") == ""


def test_paragraphs_in_two_languages_give_no_answer() -> None:
    text = (
        "The harbour commission voted on Tuesday to close the old ferry terminal for six weeks.\n\n"
        "La commission du port a voté mardi la fermeture du vieux terminal pendant six semaines."
    )
    assert detect_language("", text) == ""


def test_a_short_quote_in_another_language_does_not_change_the_answer() -> None:
    text = (
        "The harbour commission of Port Alder voted on Tuesday to close the old ferry terminal for six weeks "
        "while engineers replace the rotten timber of the quay and repaint the waiting hall.\n\n"
        "Passengers will board at the fishing pier instead, and the commission promised extra buses.\n\n"
        "« C'est la vie », said one commuter.\n\n"
        "The terminal is expected to reopen in early June, before the summer timetable begins."
    )
    assert detect_language("Port Alder closes its ferry terminal", text) == "en"


def test_answers_are_two_letter_codes_from_the_supported_list() -> None:
    assert all(len(code) == 2 for code in LANGUAGES)
    assert detect_language("The ferry is late again this morning", "") in LANGUAGES
