"""Fixture flights: Chinese domestic routes with fares from ¥399 to ¥12,999 (integer fen, never floats).

A flight here is one bookable fare on a daily service (flight number + cabin). The site asks for a travel date
at search time; every service below flies daily, so a search only filters by route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bnpl.money import Money

__all__ = [
    "AIRPORTS",
    "FLIGHTS",
    "Flight",
    "UnknownFlightError",
    "cheaper_and_dearer",
    "get_flight",
    "routes",
    "search_flights",
]


class UnknownFlightError(LookupError):
    """No fixture flight has this id (the message names the id and where to find valid ones)."""


AIRPORTS: Final[dict[str, str]] = {
    "SHA": "上海虹桥 Shanghai Hongqiao",
    "PVG": "上海浦东 Shanghai Pudong",
    "PEK": "北京首都 Beijing Capital",
    "PKX": "北京大兴 Beijing Daxing",
    "CAN": "广州白云 Guangzhou Baiyun",
    "CTU": "成都天府 Chengdu Tianfu",
    "SZX": "深圳宝安 Shenzhen Bao'an",
    "KMG": "昆明长水 Kunming Changshui",
    "XIY": "西安咸阳 Xi'an Xianyang",
    "HGH": "杭州萧山 Hangzhou Xiaoshan",
    "SYX": "三亚凤凰 Sanya Phoenix",
}
"""IATA code → display name (Chinese and English)."""


@dataclass(frozen=True, slots=True)
class Flight:
    """One bookable fare: a daily service in one cabin, for ``passengers`` travellers, at ``fare`` fen."""

    id: str
    airline: str
    number: str
    origin: str
    destination: str
    departs: str
    arrives: str
    cabin: str
    fare: int
    passengers: int = 1

    @property
    def price(self) -> Money:
        """The fare as :class:`Money` (CNY)."""
        return Money(self.fare, "CNY")

    @property
    def label(self) -> str:
        """A one-line description, e.g. ``MU5401 SHA→CTU 经济舱 Economy``."""
        return f"{self.number} {self.origin}→{self.destination} {self.cabin}"


def _f(number: str, airline: str, route: str, times: str, cabin: str, yuan: int, passengers: int = 1) -> Flight:
    origin, destination = route.split("-")
    departs, arrives = times.split("-")
    code = {"经济舱 Economy": "Y", "商务舱 Business": "J", "头等舱 First": "F"}.get(cabin, "FAM")
    return Flight(
        id=f"{number}-{code}",
        airline=airline,
        number=number,
        origin=origin,
        destination=destination,
        departs=departs,
        arrives=arrives,
        cabin=cabin,
        fare=yuan * 100,
        passengers=passengers,
    )


_Y, _J, _F, _FAMILY = "经济舱 Economy", "商务舱 Business", "头等舱 First", "家庭套票 Family (2 adults + 2 children)"

FLIGHTS: Final[tuple[Flight, ...]] = (
    # Shanghai → Chengdu: the README's demo route
    _f("MU5401", "东方航空 China Eastern", "SHA-CTU", "08:05-11:15", _Y, 1299),
    _f("3U8962", "四川航空 Sichuan Airlines", "SHA-CTU", "13:40-16:55", _Y, 899),
    _f("CA4512", "中国国航 Air China", "SHA-CTU", "19:20-22:30", _Y, 1099),
    _f("MU5401", "东方航空 China Eastern", "SHA-CTU", "08:05-11:15", _J, 5680),
    _f("3U8962", "四川航空 Sichuan Airlines", "SHA-CTU", "13:40-16:55", _FAMILY, 8680, passengers=4),
    # Beijing → Guangzhou
    _f("HU7801", "海南航空 Hainan Airlines", "PEK-CAN", "06:50-10:10", _Y, 399),
    _f("CA1315", "中国国航 Air China", "PEK-CAN", "09:30-12:55", _Y, 1199),
    _f("CZ3100", "南方航空 China Southern", "PEK-CAN", "14:00-17:20", _Y, 1580),
    _f("CZ3100", "南方航空 China Southern", "PEK-CAN", "14:00-17:20", _J, 9880),
    # Shanghai → Beijing
    _f("CA1858", "中国国航 Air China", "SHA-PEK", "07:30-09:45", _Y, 799),
    _f("MU5101", "东方航空 China Eastern", "SHA-PEK", "10:00-12:15", _Y, 1050),
    _f("MU5101", "东方航空 China Eastern", "SHA-PEK", "10:00-12:15", _F, 12999),
    # Guangzhou → Sanya, a family holiday
    _f("CZ6738", "南方航空 China Southern", "CAN-SYX", "11:10-12:40", _Y, 720),
    _f("CZ6738", "南方航空 China Southern", "CAN-SYX", "11:10-12:40", _FAMILY, 8299, passengers=4),
    # a few more
    _f("MU5803", "东方航空 China Eastern", "PVG-KMG", "08:40-12:20", _Y, 1460),
    _f("ZH9215", "深圳航空 Shenzhen Airlines", "SZX-XIY", "15:25-18:05", _Y, 690),
    _f("CA1703", "中国国航 Air China", "HGH-PKX", "18:10-20:25", _Y, 930),
)
"""Every fixture fare (unsorted: :func:`search_flights` sorts a route cheapest first)."""

_BY_ID: Final[dict[str, Flight]] = {f.id: f for f in FLIGHTS}
_CODE: Final = re.compile(r"^[A-Z]{3}$")


def routes() -> list[tuple[str, str]]:
    """The distinct ``(origin, destination)`` pairs served, in fixture order."""
    seen: dict[tuple[str, str], None] = {}
    for flight in FLIGHTS:
        seen.setdefault((flight.origin, flight.destination), None)
    return list(seen)


def search_flights(origin: str, destination: str) -> list[Flight]:
    """Fares from ``origin`` to ``destination`` (IATA codes, any case), cheapest first.

    Raises :class:`ValueError` for a code that is not three letters or not an airport the site serves.
    """
    found = []
    codes = []
    for name, code in (("origin", origin), ("destination", destination)):
        code = code.strip().upper() if isinstance(code, str) else ""
        if not _CODE.match(code) or code not in AIRPORTS:
            raise ValueError(f"{name}: {code or 'nothing'!r} is not an airport we serve ({', '.join(AIRPORTS)})")
        codes.append(code)
    for flight in FLIGHTS:
        if (flight.origin, flight.destination) == (codes[0], codes[1]):
            found.append(flight)
    return sorted(found, key=lambda f: (f.fare, f.departs))


def get_flight(flight_id: str) -> Flight:
    """The fixture flight with this id (e.g. ``MU5401-Y``); raises :class:`UnknownFlightError` otherwise."""
    flight = _BY_ID.get(flight_id) if isinstance(flight_id, str) else None
    if flight is None:
        raise UnknownFlightError(f"no flight {str(flight_id)[:40]!r}; search a route to see the flights on sale")
    return flight


def cheaper_and_dearer(flight: Flight) -> tuple[list[Flight], list[Flight]]:
    """Other fares on the same route for a rebooking: ``(cheaper, dearer)``, each cheapest first."""
    others = [f for f in search_flights(flight.origin, flight.destination) if f.id != flight.id]
    return [f for f in others if f.fare < flight.fare], [f for f in others if f.fare > flight.fare]
