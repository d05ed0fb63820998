"""Invented multi-outlet coverage where the right grouping into stories is known.

- "bridge": one event (a storm shuts the Quillport harbour bridge) told differently by three outlets, plus a
  wire copy of one of them that a fourth outlet carried word for word;
- "tunnel": a different event with similar words (a tunnel closed for repairs in another town, days later);
- "strike": an event that goes on over three days (ferry workers' strike in Marrowby: called, held, ended);
- "orchard": an unrelated event, alone.

Every name, place and quote is made up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["EXPECTED", "MULTILINGUAL_EXPECTED", "coverage", "multilingual_coverage"]

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


BRIDGE_1 = (
    "The Quillport harbour bridge was closed to all traffic on Monday morning after overnight storm winds "
    "tore away sections of its railings and damaged a support cable, the Quillport city council said. "
    "Engineers from the council inspected the span at first light and found the cable frayed. "
    "Commuters were told to use the old ferry crossing while repairs are planned. "
    "Council engineer Maribel Ostrander said the bridge would stay shut until the cable is replaced. "
    "Storm Ilvane brought gusts of more than 120 kilometres an hour to the coast overnight."
)
BRIDGE_2 = (
    "Storm Ilvane has forced the closure of the harbour bridge in Quillport. Gusts overnight ripped railings "
    "from the span and left one of the support cables damaged, according to council engineers, who closed "
    "the bridge to cars, buses and pedestrians early on Monday. Maribel Ostrander, the engineer leading the "
    "inspection, said no date could yet be given for reopening. Drivers face long detours and the ferry "
    "crossing is expected to be busy. The storm also brought down trees across the Quillport district."
)
BRIDGE_3 = (
    "Quillport's harbour bridge is shut after Storm Ilvane. The council closed the bridge on Monday when "
    "inspectors found a damaged support cable and missing railings after a night of violent wind. "
    "Residents queued for the ferry instead. Council engineer Maribel Ostrander told reporters the cable "
    "must be replaced before traffic can return, and that a specialist crew had been called in. Quillport "
    "traders fear the closure will keep shoppers away from the harbour market this week."
)
TUNNEL = (
    "The Dunmere road tunnel will close for six weeks of repairs from Thursday, the Dunmere highways "
    "department announced. Cracks found in the tunnel lining during a routine inspection must be sealed "
    "and a drainage pipe replaced. Drivers are advised to use the coast road. Highways director Peregrine "
    "Walcott said the closure was planned to avoid the winter holidays and that the tunnel would reopen "
    "in mid January. Bus routes through the tunnel will be diverted while the repairs take place."
)
STRIKE_1 = (
    "Ferry workers in Marrowby have voted to strike over pay, the Marrowby Maritime Union said on Monday, "
    "after talks with the operator Tidewell Ferries broke down. The walkout is due to begin on Wednesday "
    "and would halt every sailing between Marrowby and the Skerrin islands. Union secretary Odile Fenwick "
    "said crews had gone three years without a rise. Tidewell Ferries said it was disappointed."
)
STRIKE_2 = (
    "No ferries sailed between Marrowby and the Skerrin islands on Wednesday as the strike by Tidewell "
    "Ferries crews began. Islanders were left without their usual crossing and some schools on the Skerrin "
    "islands closed. Odile Fenwick of the Marrowby Maritime Union said the crews were ready to talk. "
    "Tidewell Ferries called the strike unnecessary and said its pay offer was fair."
)
STRIKE_3 = (
    "The Marrowby ferry strike is over. Crews of Tidewell Ferries accepted a new pay offer on Thursday "
    "evening and sailings to the Skerrin islands resume on Friday morning, the Marrowby Maritime Union "
    "said. Union secretary Odile Fenwick said the deal gave crews a fair rise. Tidewell Ferries thanked "
    "islanders for their patience during the two days without ferries."
)
ORCHARD = (
    "An orchard in the village of Brambleford has grown an apple weighing just over two kilograms, which "
    "its owners believe to be a county record. Hester and Ambrose Pell said the fruit grew on a tree "
    "planted by Ambrose's grandfather. The apple will be shown at the Brambleford harvest fair on Saturday "
    "before being weighed again by judges from the county horticultural society."
)

# (key, outlet, hours after T0, title, text, gold story)
_ROWS = [
    ("bridge-1", "Alder Gazette", 1.0, "Storm closes Quillport harbour bridge", BRIDGE_1, "bridge"),
    (
        "bridge-2",
        "Quillon Daily",
        1.5,
        "Harbour bridge shut as Storm Ilvane damages cable",
        BRIDGE_2,
        "bridge",
    ),
    ("bridge-3", "Marrowby Herald", 2.5, "Quillport bridge closed after storm night", BRIDGE_3, "bridge"),
    ("bridge-wire", "Wire Service", 3.0, "Storm closes Quillport harbour bridge", BRIDGE_1, "bridge"),
    ("strike-1", "Marrowby Herald", 5.0, "Marrowby ferry crews vote to strike", STRIKE_1, "strike"),
    ("orchard", "Alder Gazette", 8.0, "Brambleford orchard grows record apple", ORCHARD, "orchard"),
    ("strike-2", "Quillon Daily", 52.0, "Ferries halted as Marrowby strike begins", STRIKE_2, "strike"),
    ("tunnel", "Quillon Daily", 60.0, "Dunmere tunnel to close for repairs", TUNNEL, "tunnel"),
    ("strike-3", "Marrowby Herald", 84.0, "Marrowby ferry strike ends with pay deal", STRIKE_3, "strike"),
]

EXPECTED: dict[str, str] = {key: story for key, *_, story in _ROWS}


def coverage() -> list[dict[str, object]]:
    """The articles as `broadsheet import` records, in publish order; `url` ends with the key."""
    return [
        {
            "url": f"https://{outlet.split()[0].lower()}.example/news/{key}",
            "title": title,
            "text": text,
            "published": _at(hours),
            "outlet": outlet,
            "lang": "en",
            "image": f"https://img.example/{key}.jpg" if key != "bridge-1" else "",
        }
        for key, outlet, hours, title, text, _ in _ROWS
    ]


# --- across languages ------------------------------------------------------------------------------------------
# "fire": one event (a fire destroys the covered market of Vessoria) told in English, Portuguese and Spanish by
# three outlets within hours; "sawmill": a different event of the same kind (a sawmill burns in Calderra) two
# days later, told in Spanish and English. Every name, place and figure is made up.

_FIRE_EN = (
    "A fire destroyed the covered market of Vessoria overnight, the town's fire brigade said on Tuesday. "
    "More than forty stalls burned before sixty firefighters brought the blaze under control at dawn. "
    "Nobody was hurt. Mayor Idalina Ferreiro said the market, built in 1911, would be rebuilt and that "
    "traders would be given space in the old station square until then."
)
_FIRE_PT = (
    "Um incêndio destruiu durante a noite o mercado coberto de Vessoria, informaram na terça-feira os "
    "bombeiros da cidade. Mais de quarenta bancas arderam antes de sessenta bombeiros controlarem as chamas "
    "de madrugada. Ninguém ficou ferido. A presidente da câmara, Idalina Ferreiro, disse que o mercado, "
    "construído em 1911, será reconstruído e que os comerciantes ficarão na antiga praça da estação."
)
_FIRE_ES = (
    "Un incendio destruyó durante la noche el mercado cubierto de Vessoria, según informaron el martes los "
    "bomberos de la ciudad. Más de cuarenta puestos ardieron antes de que sesenta bomberos controlaran las "
    "llamas al amanecer. No hubo heridos. La alcaldesa Idalina Ferreiro dijo que el mercado, construido en "
    "1911, será reconstruido y que los comerciantes ocuparán la antigua plaza de la estación."
)
_SAWMILL_ES = (
    "Un incendio arrasó el jueves el aserradero de la familia Quintela en Calderra, a orillas del río Brenna. "
    "Las llamas se extendieron a un almacén de troncos y obligaron a cortar la carretera comarcal durante "
    "seis horas. Tres trabajadores fueron atendidos por inhalación de humo. La empresa, que emplea a 120 "
    "personas, calcula daños de dos millones de euros."
)
_SAWMILL_EN = (
    "Fire swept through the Quintela family sawmill in Calderra on the banks of the river Brenna on Thursday. "
    "The flames spread to a log store and the county road was closed for six hours. Three workers were "
    "treated for smoke inhalation. The company, which employs 120 people, puts the damage at two million euros."
)

_MULTILINGUAL_ROWS = [
    ("fire-en", "Alder Gazette", 1.0, "en", "Fire destroys Vessoria's covered market", _FIRE_EN, "fire"),
    ("fire-pt", "Diário de Quillon", 2.0, "pt", "Incêndio destrói o mercado coberto de Vessoria", _FIRE_PT, "fire"),
    ("fire-es", "El Correo de Marrow", 3.5, "es", "Un incendio destruye el mercado de Vessoria", _FIRE_ES, "fire"),
    ("sawmill-es", "El Correo de Marrow", 50.0, "es", "Arde el aserradero Quintela en Calderra",
     _SAWMILL_ES, "sawmill"),
    ("sawmill-en", "Alder Gazette", 51.0, "en", "Fire guts Calderra sawmill", _SAWMILL_EN, "sawmill"),
]  # fmt: skip

MULTILINGUAL_EXPECTED: dict[str, str] = {key: story for key, *_, story in _MULTILINGUAL_ROWS}


def multilingual_coverage() -> list[dict[str, object]]:
    """The invented coverage across languages as `broadsheet import` records, in publish order."""
    return [
        {
            "url": f"https://{outlet.split()[-1].lower()}.example/news/{key}",
            "title": title,
            "text": text,
            "published": _at(hours),
            "outlet": outlet,
            "lang": lang,
        }
        for key, outlet, hours, lang, title, text, _ in _MULTILINGUAL_ROWS
    ]
