"""Product photos: JPEGs drawn with Pillow from a `photos` row, with EXIF exactly when planted."""

from __future__ import annotations

import hashlib
import io
import random
import re
import textwrap
from datetime import UTC, datetime
from functools import lru_cache

from flask import Blueprint, abort, current_app
from PIL import Image, ImageDraw, ImageFont

from .world import World

WIDTH, HEIGHT = 640, 480

# EXIF tags (TIFF/EXIF 2.32).
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_SOFTWARE = 0x0131
TAG_DATETIME = 0x0132
IFD_EXIF = 0x8769
IFD_GPS = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_BODY_SERIAL = 0xA431
GPS_VERSION = 0x00
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 0x01, 0x02, 0x03, 0x04
GPS_DATESTAMP = 0x1D

bp = Blueprint("photos", __name__)

# Surfaces the product lies on, as (base colour, grain colour).
SURFACES = (
    ((92, 64, 40), (70, 48, 30)),  # wooden table
    ((24, 24, 26), (40, 40, 44)),  # black cloth
    ((200, 200, 196), (180, 180, 176)),  # white desk
    ((60, 70, 60), (50, 58, 50)),  # green mat
)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in scalable font at a size."""
    return ImageFont.load_default(size=size)


def fmt_day(ts: int | None) -> str:
    """A handwritten-looking date (day/month/year), or nothing."""
    return "" if ts is None else datetime.fromtimestamp(int(ts), UTC).strftime("%d/%m/%y")


def _dms(value: float) -> tuple[float, float, float]:
    """Decimal degrees as EXIF degrees, minutes, seconds."""
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = round((minutes_full - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def exif_of(photo: dict) -> Image.Exif | None:
    """The EXIF block of a photo row, or None when the row's EXIF fields are empty."""
    if not photo.get("camera_make") and photo.get("gps_lat") is None:
        return None
    exif = Image.Exif()
    exif[TAG_ORIENTATION] = 1
    if photo.get("camera_make"):
        exif[TAG_MAKE] = photo["camera_make"]
    if photo.get("camera_model"):
        exif[TAG_MODEL] = photo["camera_model"]
    taken = photo.get("taken")
    sub = exif.get_ifd(IFD_EXIF)
    if taken is not None:
        stamp = datetime.fromtimestamp(int(taken), UTC).strftime("%Y:%m:%d %H:%M:%S")
        exif[TAG_DATETIME] = stamp
        sub[TAG_DATETIME_ORIGINAL] = stamp
        sub[TAG_DATETIME_DIGITIZED] = stamp
        sub[TAG_OFFSET_TIME_ORIGINAL] = "+00:00"
    if photo.get("camera_serial"):
        sub[TAG_BODY_SERIAL] = str(photo["camera_serial"])
    if photo.get("gps_lat") is not None and photo.get("gps_lon") is not None:
        lat, lon = float(photo["gps_lat"]), float(photo["gps_lon"])
        gps = exif.get_ifd(IFD_GPS)
        gps[GPS_VERSION] = b"\x02\x03\x00\x00"
        gps[GPS_LAT_REF] = "N" if lat >= 0 else "S"
        gps[GPS_LAT] = _dms(lat)
        gps[GPS_LON_REF] = "E" if lon >= 0 else "W"
        gps[GPS_LON] = _dms(lon)
        if taken is not None:
            gps[GPS_DATESTAMP] = datetime.fromtimestamp(int(taken), UTC).strftime("%Y:%m:%d")
    return exif


def _draw_product(draw: ImageDraw.ImageDraw, rng: random.Random, subject: str) -> None:
    """A rough product: a scale, a bag, notes, blotters or pills, depending on the subject."""
    cx, cy = WIDTH // 2 + rng.randrange(-40, 40), HEIGHT // 2 + rng.randrange(-30, 30)
    text = subject.lower()
    if "scale" in text:
        draw.rounded_rectangle((cx - 150, cy - 40, cx + 150, cy + 130), 18, fill=(50, 50, 55))
        draw.ellipse((cx - 110, cy - 110, cx + 110, cy + 20), fill=(170, 170, 175))
        draw.rectangle((cx - 60, cy + 60, cx + 60, cy + 100), fill=(120, 200, 140))
        draw.text((cx - 44, cy + 64), f"{rng.uniform(0.5, 28):.2f}g", font=_font(28), fill="black")
    elif "bag" in text or "sealed" in text:
        draw.rounded_rectangle(
            (cx - 130, cy - 110, cx + 130, cy + 110), 14, fill=(210, 215, 220), outline="white"
        )
        draw.line((cx - 130, cy - 80, cx + 130, cy - 80), fill=(160, 160, 170), width=4)
        for _ in range(30):
            x, y = cx + rng.randrange(-100, 100), cy + rng.randrange(-60, 90)
            r = rng.randrange(3, 9)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(235, 235, 230))
    elif re.search(r"\b(notes|usd|eur|gbp|bills)\b", text):
        for i in range(5):
            dx, dy = rng.randrange(-20, 20) + i * 6, rng.randrange(-20, 20) + i * 5
            draw.rectangle(
                (cx - 140 + dx, cy - 65 + dy, cx + 140 + dx, cy + 65 + dy),
                fill=(150, 180, 140),
                outline=(60, 90, 60),
                width=3,
            )
    else:
        for _ in range(rng.randrange(6, 14)):
            x, y = cx + rng.randrange(-150, 150), cy + rng.randrange(-100, 100)
            w, h = rng.randrange(18, 50), rng.randrange(12, 40)
            shade = tuple(rng.randrange(150, 250) for _ in range(3))
            draw.rounded_rectangle((x, y, x + w, y + h), 8, fill=shade, outline=(40, 40, 40))


@lru_cache(maxsize=256)
def _render(key: tuple) -> bytes:
    """The JPEG bytes of a photo, cached by its row's values."""
    photo = dict(key)
    digest = hashlib.sha256(f"{photo['id']}:{photo['filename']}:{photo['subject']}".encode())
    rng = random.Random(digest.digest())
    base, grain = rng.choice(SURFACES)
    img = Image.new("RGB", (WIDTH, HEIGHT), base)
    draw = ImageDraw.Draw(img)
    for _ in range(160):
        y = rng.randrange(HEIGHT)
        draw.line((0, y, WIDTH, y + rng.randrange(-6, 6)), fill=grain, width=rng.randrange(1, 3))
    _draw_product(draw, rng, photo["subject"])
    if "handwritten" in photo["subject"]:
        draw.rectangle((30, HEIGHT - 140, 250, HEIGHT - 40), fill=(245, 240, 220))
        quoted = re.search(r"'([^']+)'", photo["subject"])
        when = photo.get("taken") or photo.get("listing_created")
        lines = [quoted.group(1) if quoted else "", fmt_day(when)]
        for i, line in enumerate(lines):
            draw.text((44, HEIGHT - 128 + i * 34), line, font=_font(28), fill=(20, 20, 90))
    caption = textwrap.wrap(photo["subject"], 48)[:2]
    draw.rectangle((0, 0, WIDTH, 16 + 26 * len(caption)), fill=(0, 0, 0))
    for i, line in enumerate(caption):
        draw.text((12, 8 + 26 * i), line, font=_font(22), fill=(240, 240, 240))
    out = io.BytesIO()
    exif = exif_of(photo)
    if exif is not None:
        img.save(out, "JPEG", quality=82, exif=exif)
    else:
        img.save(out, "JPEG", quality=82)
    return out.getvalue()


def render_photo(photo: dict) -> bytes:
    """The JPEG of a photo row: EXIF (camera, serial, time, GPS) when set, none otherwise."""
    keys = (
        "id", "filename", "subject", "gps_lat", "gps_lon", "camera_make", "camera_model",
        "camera_serial", "taken", "listing_created",
    )  # fmt: skip
    return _render(tuple((k, photo.get(k)) for k in keys))


def photo_url(photo: dict) -> str:
    """Where a site serves a photo."""
    return f"/photos/{photo['id']}/{photo['filename']}"


@bp.route("/photos/<int:photo_id>/<filename>")
def photo(photo_id: int, filename: str):
    """A listing photo as uploaded (EXIF and all, where the site keeps it)."""
    world: World = current_app.extensions["world"]
    row = world.photos.get(current_app.extensions["site"].id, photo_id)
    if row is None or row["filename"] != filename:
        abort(404)
    response = current_app.response_class(render_photo(row), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
