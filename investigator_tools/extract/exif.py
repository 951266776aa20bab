"""Photo metadata (EXIF, read with Pillow): where, when and with which camera it was taken.

One `exif` artefact per photo with everything found, plus a `gps` artefact (decimal
latitude,longitude) and a `camera_serial` artefact (the body serial number: the same
camera behind photos on two sites is one person).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from PIL import Image, UnidentifiedImageError

from .base import Artefact, Document

TAG_MAKE, TAG_MODEL, TAG_SOFTWARE, TAG_DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
IFD_EXIF, IFD_GPS = 0x8769, 0x8825
TAG_DATETIME_ORIGINAL, TAG_BODY_SERIAL, TAG_LENS_SERIAL = 0x9003, 0xA431, 0xA435
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT = 0x01, 0x02, 0x03, 0x04, 0x06


def _text(value) -> str | None:
    """An EXIF string value, trimmed (None when empty)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).strip().strip("\x00").strip()
    return value or None


def _degrees(value, ref) -> float | None:
    """EXIF (degrees, minutes, seconds) and a N/S/E/W reference as signed decimal degrees."""
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    ref = _text(ref) or ""
    return round(-decimal if ref.upper() in ("S", "W") else decimal, 6)


def read_exif(body: bytes) -> dict:
    """The EXIF fields of an image that matter to an investigator (empty if none)."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError):
        return {}
    if not exif:
        return {}
    sub = exif.get_ifd(IFD_EXIF)
    gps = exif.get_ifd(IFD_GPS)
    info: dict[str, str | float | None] = {
        "make": _text(exif.get(TAG_MAKE)),
        "model": _text(exif.get(TAG_MODEL)),
        "software": _text(exif.get(TAG_SOFTWARE)),
        "date_taken": _text(sub.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME)),
        "body_serial": _text(sub.get(TAG_BODY_SERIAL)),
        "lens_serial": _text(sub.get(TAG_LENS_SERIAL)),
    }
    if GPS_LAT in gps and GPS_LON in gps:
        info["lat"] = _degrees(gps[GPS_LAT], gps.get(GPS_LAT_REF))
        info["lon"] = _degrees(gps[GPS_LON], gps.get(GPS_LON_REF))
    return {k: v for k, v in info.items() if v is not None}


def find(doc: Document) -> Iterator[Artefact]:
    """The EXIF of a captured image, with its GPS position and camera serial."""
    if not doc.is_image:
        return
    info = read_exif(doc.body)
    if not info:
        return
    camera = " ".join(p for p in (info.get("make"), info.get("model")) if p)
    summary = ", ".join(f"{k}={v}" for k, v in info.items())
    yield Artefact("exif", summary, doc.url, f"EXIF of {doc.url}", info)
    if "lat" in info and "lon" in info:
        position = f"{info['lat']:.6f},{info['lon']:.6f}"
        yield Artefact(
            "gps",
            position,
            position,
            f"EXIF GPS of {doc.url} ({camera or 'unknown camera'}, {info.get('date_taken', '')})",
            {"lat": info["lat"], "lon": info["lon"], "date_taken": info.get("date_taken")},
        )
    if "body_serial" in info:
        # Serials are unique per maker only: "canon:123" and "nikon:123" are two cameras.
        make = (info.get("make") or "").strip().lower()
        yield Artefact(
            "camera_serial",
            info["body_serial"],
            f"{make}:{info['body_serial']}" if make else info["body_serial"],
            f"EXIF body serial of {doc.url} ({camera or 'unknown camera'})",
            {"make": info.get("make"), "model": info.get("model")},
        )
