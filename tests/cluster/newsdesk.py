"""Invented news for the story clusterer's tests: several outlets telling the same events differently.

- "veltmark": an earthquake in the town of Veltmark, told by three outlets, plus a wire copy of the first;
- "sorrin": another earthquake, in Sorrin Bay, two days later: same kind of event, other place and people;
- "holloway": a protest at the Holloway dam that goes on over three days;
- "amberly": a book fair in Amberly, then a second fair there five days later, after the story went quiet;
- "orchard": an unrelated event, alone.

Every name, place and quote is made up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from broadsheet.cluster import ClusterItem

__all__ = ["STORIES", "T0", "Embed", "MakeItems", "Report"]

T0 = datetime(2031, 3, 3, 6, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Report:
    key: str
    story: str
    outlet: str
    hours: float  # after T0
    title: str
    text: str
    copy_of: str | None = None

    @property
    def published(self) -> datetime:
        return T0 + timedelta(hours=self.hours)


_VELTMARK_1 = (
    "A magnitude 6.1 earthquake struck the mountain town of Veltmark before dawn on Monday, collapsing the "
    "old grain hall and cutting power to most homes, the Veltmark civil protection office said. Rescue teams "
    "from Ostrava Pass searched the rubble of the hall through the morning. Mayor Idris Kallenberg said four "
    "people were injured and that the town school would stay closed while engineers inspect it."
)
_VELTMARK_2 = (
    "Residents of Veltmark spent the night in the town square after a strong earthquake shook the valley. "
    "The quake, measured at 6.1, brought down the grain hall and damaged the bell tower of St Aurel. Mayor "
    "Idris Kallenberg told reporters that four people had been hurt, none of them seriously, and asked "
    "families to stay out of damaged buildings until engineers from Ostrava Pass had checked them."
)
_VELTMARK_3 = (
    "Engineers began checking homes in Veltmark on Monday after an earthquake of magnitude 6.1 rattled the "
    "region and flattened the town's grain hall. The civil protection office reported four injuries and "
    "widespread power cuts. Mayor Idris Kallenberg said the school would remain shut this week, and aftershocks "
    "were felt as far as Ostrava Pass, where rescue crews had set out from before sunrise."
)
_SORRIN_1 = (
    "An earthquake of magnitude 5.8 hit the fishing port of Sorrin Bay on Wednesday afternoon, tearing a "
    "crack through the harbour wall and sinking two moored trawlers. Harbourmaster Elsbeth Marrow said the "
    "fish market was evacuated and that no one was hurt. The coastal road to Lindqvist Point was closed "
    "because of rockfalls, and the Sorrin Bay lifeboat crew checked the cliffs for stranded walkers."
)
_SORRIN_2 = (
    "Sorrin Bay's harbour wall was split by a magnitude 5.8 quake on Wednesday, and two trawlers went down at "
    "their moorings. Harbourmaster Elsbeth Marrow cleared the fish market as a precaution. Rockfalls closed "
    "the coastal road to Lindqvist Point, where the lifeboat crew searched the cliffs. Fishermen said the "
    "tremor lasted nearly half a minute and that the water in the harbour drained and surged back."
)
_SORRIN_3 = (
    "Divers inspected the cracked harbour wall at Sorrin Bay on Thursday, a day after the magnitude 5.8 "
    "earthquake sank two trawlers in the port. Harbourmaster Elsbeth Marrow said the fish market could reopen "
    "on Friday once the wall is shored up. The road to Lindqvist Point stays closed while crews clear the "
    "rockfalls, and the lifeboat station asked walkers to keep away from the cliffs."
)
_HOLLOWAY_1 = (
    "Hundreds of farmers blocked the access road to the Holloway dam on Tuesday to protest against plans to "
    "divert water from the Fenmoor valley to the city of Kestrel Rise. The protest was organised by the "
    "Fenmoor Growers Union, whose chair Tobiah Wrenfield said the diversion would leave orchards dry by "
    "August. Police kept the road closed to lorries working on the new pumping station."
)
_HOLLOWAY_2 = (
    "The blockade at the Holloway dam entered its second day on Wednesday as Fenmoor farmers camped along "
    "the access road with tractors. Tobiah Wrenfield of the Fenmoor Growers Union said the protest would go "
    "on until the water authority of Kestrel Rise dropped its diversion plan. Work on the pumping station has "
    "stopped since the farmers arrived, the contractor confirmed."
)
_HOLLOWAY_3 = (
    "Farmers ended their three-day blockade of the Holloway dam on Thursday after the Kestrel Rise water "
    "authority agreed to pause the diversion of water from the Fenmoor valley for a review. Tobiah "
    "Wrenfield of the Fenmoor Growers Union called it a first victory, and the tractors left the access road "
    "in a long convoy. Work on the pumping station will stay suspended until the review reports in June."
)
_AMBERLY_1 = (
    "The Amberly book fair opened on Monday with more than two hundred stalls of second-hand and rare books "
    "along the canal. Organiser Mirela Dunstan said the fair expected twenty thousand visitors over the "
    "weekend, and that a printing press built in 1889 would be working in the old customs house, where "
    "children can set their names in lead type."
)
_AMBERLY_2 = (
    "Amberly holds a second book fair this spring: the canal-side stalls return on Saturday for a fair of "
    "children's books and comics, organiser Mirela Dunstan announced. The old customs house will host "
    "readings by illustrators, and the town's printing press from 1889 will once more let visitors set their "
    "names in lead type. Entry is free for anyone under sixteen."
)
_ORCHARD = (
    "A grower in the village of Brambleford has picked an apple weighing 1.9 kilograms from a tree planted by "
    "his grandfather, which the county horticultural society says is the heaviest on its records. Osric Pell "
    "said the tree had been fed nothing but rain and compost. The apple will be shown at the Brambleford "
    "harvest festival before it is pressed into juice for the village school."
)

Embed = Callable[[Sequence[Report]], NDArray[np.float32]]
MakeItems = Callable[[Sequence[Report]], list[ClusterItem]]

STORIES: tuple[Report, ...] = (
    Report(
        "veltmark-1",
        "veltmark",
        "Alder Gazette",
        1.0,
        "Earthquake hits Veltmark, grain hall collapses",
        _VELTMARK_1,
    ),
    Report("holloway-1", "holloway", "Fenmoor Courier", 2.0, "Farmers block Holloway dam road", _HOLLOWAY_1),
    Report(
        "veltmark-2",
        "veltmark",
        "Quillon Daily",
        3.0,
        "Night in the square after Veltmark quake",
        _VELTMARK_2,
    ),
    Report("amberly-1", "amberly", "Canal Post", 4.0, "Amberly book fair opens along the canal", _AMBERLY_1),
    Report(
        "veltmark-wire",
        "veltmark",
        "Wire Service",
        4.5,
        "Earthquake hits Veltmark, grain hall collapses",
        _VELTMARK_1,
        copy_of="veltmark-1",
    ),
    Report(
        "veltmark-3",
        "veltmark",
        "Marrowby Herald",
        5.0,
        "Veltmark inspects homes after 6.1 quake",
        _VELTMARK_3,
    ),
    Report("orchard", "orchard", "Alder Gazette", 8.0, "Brambleford grower picks record apple", _ORCHARD),
    Report(
        "holloway-2",
        "holloway",
        "Quillon Daily",
        26.0,
        "Holloway dam blockade enters second day",
        _HOLLOWAY_2,
    ),
    Report(
        "holloway-3", "holloway", "Fenmoor Courier", 50.0, "Farmers end Holloway dam blockade", _HOLLOWAY_3
    ),
    Report("sorrin-1", "sorrin", "Canal Post", 56.0, "Quake splits Sorrin Bay harbour wall", _SORRIN_1),
    Report(
        "sorrin-2", "sorrin", "Quillon Daily", 57.0, "Trawlers sink as 5.8 quake hits Sorrin Bay", _SORRIN_2
    ),
    Report("sorrin-3", "sorrin", "Marrowby Herald", 76.0, "Divers check Sorrin Bay harbour wall", _SORRIN_3),
    Report(
        "amberly-2",
        "amberly-spring",
        "Canal Post",
        124.0,
        "Amberly announces spring fair of children's books",
        _AMBERLY_2,
    ),
)
