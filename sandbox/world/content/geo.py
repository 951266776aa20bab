"""Countries, city coordinates and cameras: where photos were taken and with what."""

from __future__ import annotations

import random
import zlib

from faker.providers.geo import Provider as GeoProvider

from sandbox.text import ascii_fold
from sandbox.world.content.world import ActorRow

# code: (English name, a large city, its latitude, its longitude)
COUNTRIES: dict[str, tuple[str, str, float, float]] = {
    "US": ("United States", "Chicago", 41.8781, -87.6298),
    "GB": ("United Kingdom", "Manchester", 53.4808, -2.2426),
    "IE": ("Ireland", "Dublin", 53.3498, -6.2603),
    "DE": ("Germany", "Berlin", 52.5200, 13.4050),
    "AT": ("Austria", "Vienna", 48.2082, 16.3738),
    "CH": ("Switzerland", "Zurich", 47.3769, 8.5417),
    "NL": ("Netherlands", "Rotterdam", 51.9244, 4.4777),
    "BE": ("Belgium", "Antwerp", 51.2194, 4.4025),
    "FR": ("France", "Lyon", 45.7640, 4.8357),
    "ES": ("Spain", "Valencia", 39.4699, -0.3763),
    "PT": ("Portugal", "Porto", 41.1579, -8.6291),
    "IT": ("Italy", "Milan", 45.4642, 9.1900),
    "PL": ("Poland", "Warsaw", 52.2297, 21.0122),
    "CZ": ("Czechia", "Prague", 50.0755, 14.4378),
    "SK": ("Slovakia", "Bratislava", 48.1486, 17.1077),
    "HU": ("Hungary", "Budapest", 47.4979, 19.0402),
    "RO": ("Romania", "Bucharest", 44.4268, 26.1025),
    "BG": ("Bulgaria", "Sofia", 42.6977, 23.3219),
    "GR": ("Greece", "Thessaloniki", 40.6401, 22.9444),
    "DK": ("Denmark", "Copenhagen", 55.6761, 12.5683),
    "SE": ("Sweden", "Gothenburg", 57.7089, 11.9746),
    "NO": ("Norway", "Oslo", 59.9139, 10.7522),
    "FI": ("Finland", "Helsinki", 60.1699, 24.9384),
    "EE": ("Estonia", "Tallinn", 59.4370, 24.7536),
    "LT": ("Lithuania", "Vilnius", 54.6872, 25.2797),
    "LV": ("Latvia", "Riga", 56.9496, 24.1052),
    "UA": ("Ukraine", "Kyiv", 50.4501, 30.5234),
    "RU": ("Russia", "Saint Petersburg", 59.9311, 30.3609),
    "TR": ("Turkey", "Izmir", 38.4237, 27.1428),
    "CA": ("Canada", "Toronto", 43.6532, -79.3832),
    "MX": ("Mexico", "Guadalajara", 20.6597, -103.3496),
    "BR": ("Brazil", "Sao Paulo", -23.5505, -46.6333),
    "AR": ("Argentina", "Buenos Aires", -34.6037, -58.3816),
    "CO": ("Colombia", "Medellin", 6.2442, -75.5812),
    "AU": ("Australia", "Melbourne", -37.8136, 144.9631),
    "NZ": ("New Zealand", "Auckland", -36.8485, 174.7633),
    "IN": ("India", "Pune", 18.5204, 73.8567),
    "CN": ("China", "Shenzhen", 22.5431, 114.0579),
    "JP": ("Japan", "Osaka", 34.6937, 135.5023),
    "KR": ("South Korea", "Busan", 35.1796, 129.0756),
    "TH": ("Thailand", "Bangkok", 13.7563, 100.5018),
    "ZA": ("South Africa", "Cape Town", -33.9249, 18.4241),
    "NG": ("Nigeria", "Lagos", 6.5244, 3.3792),
    "IL": ("Israel", "Haifa", 32.7940, 34.9896),
}

_NAME_TO_CODE = {name.lower(): code for code, (name, *_rest) in COUNTRIES.items()}
_NAME_TO_CODE.update(
    {
        "usa": "US",
        "united states of america": "US",
        "uk": "GB",
        "great britain": "GB",
        "england": "GB",
        "deutschland": "DE",
        "czech republic": "CZ",
        "the netherlands": "NL",
        "russian federation": "RU",
        "korea": "KR",
        "türkiye": "TR",
    }
)

_PLACES: dict[str, list[tuple[float, float, str]]] = {}
for _lat, _lon, _place, _cc, _tz in GeoProvider.land_coords:
    _PLACES.setdefault(_cc, []).append((float(_lat), float(_lon), _place))

# (make, model, file name pattern); the pattern gets n (a running number) and t (a time).
CAMERAS: tuple[tuple[str, str, str], ...] = (
    ("Apple", "iPhone 11", "IMG_{n:04d}.JPG"),
    ("Apple", "iPhone 13 mini", "IMG_{n:04d}.JPG"),
    ("Apple", "iPhone SE (2nd generation)", "IMG_{n:04d}.JPG"),
    ("samsung", "SM-G991B", "{t:%Y%m%d_%H%M%S}.jpg"),
    ("samsung", "SM-A525F", "{t:%Y%m%d_%H%M%S}.jpg"),
    ("Google", "Pixel 6a", "PXL_{t:%Y%m%d_%H%M%S}{n:03d}.jpg"),
    ("Xiaomi", "Redmi Note 10 Pro", "IMG_{t:%Y%m%d_%H%M%S}.jpg"),
    ("Canon", "Canon EOS 250D", "IMG_{n:04d}.JPG"),
    ("NIKON CORPORATION", "NIKON D3500", "DSC_{n:04d}.JPG"),
    ("SONY", "ILCE-6000", "DSC0{n:04d}.JPG"),
)


def country_code(actor: ActorRow) -> str:
    """The ISO code of the actor's country (from the country field, else the locale)."""
    country = (actor.country or "").strip()
    if len(country) == 2 and country.isalpha():
        return country.upper()
    code = _NAME_TO_CODE.get(ascii_fold(country).lower()) or _NAME_TO_CODE.get(country.lower())
    if code:
        return code
    if "_" in actor.locale:
        return actor.locale.split("_")[-1].upper()
    return "US"


def country_name(actor: ActorRow) -> str:
    """The actor's country as a vendor would write it on a listing ("Germany")."""
    country = (actor.country or "").strip()
    if country and not (len(country) == 2 and country.isalpha()):
        return country
    code = country_code(actor)
    return COUNTRIES[code][0] if code in COUNTRIES else code


def city_coordinates(actor: ActorRow) -> tuple[float, float]:
    """Latitude and longitude of the actor's city (a real place when known, else a stable stand-in)."""
    code = country_code(actor)
    city = ascii_fold(actor.city or "").lower()
    places = _PLACES.get(code, [])
    for lat, lon, place in places:
        if ascii_fold(place).lower() == city:
            return lat, lon
    if code in COUNTRIES and ascii_fold(COUNTRIES[code][1]).lower() == city:
        return COUNTRIES[code][2], COUNTRIES[code][3]
    # A fictional town still needs the same coordinates every time: pick by the name's CRC.
    pick = zlib.crc32(city.encode("utf-8"))
    if places:
        lat, lon, _ = places[pick % len(places)]
        return lat, lon
    if code in COUNTRIES:
        return COUNTRIES[code][2], COUNTRIES[code][3]
    return 50.0 + (pick % 1000) / 1000, 10.0 + (pick // 1000 % 1000) / 1000


def jitter(rng: random.Random, lat: float, lon: float, degrees: float) -> tuple[float, float]:
    """A point near (lat, lon), rounded like a phone's EXIF GPS (six decimals)."""
    return (
        round(lat + rng.uniform(-degrees, degrees), 6),
        round(lon + rng.uniform(-degrees, degrees), 6),
    )


def camera_serial(rng: random.Random, make: str) -> str:
    """A body serial number in the style of the maker."""
    if make in ("Apple", "samsung", "Google", "Xiaomi"):
        return "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(12))
    return str(rng.randrange(10**9, 10**10))
