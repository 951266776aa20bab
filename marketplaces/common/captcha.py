"""Image CAPTCHAs: distorted text drawn with Pillow from a seeded RNG, answers kept server-side."""

from __future__ import annotations

import hmac
import io
import math
import random
import secrets
from functools import lru_cache

from flask import Blueprint, abort, current_app, request, session
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .sessions import session_id

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
LENGTH = 6
WIDTH, HEIGHT = 240, 80

bp = Blueprint("captcha", __name__)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in scalable font at a size."""
    return ImageFont.load_default(size=size)


def answer_for(seed: str) -> str:
    """The text a challenge seed shows."""
    rng = random.Random(f"answer:{seed}")
    return "".join(rng.choice(ALPHABET) for _ in range(LENGTH))


def render(seed: str, answer: str) -> bytes:
    """The PNG of a challenge: rotated letters, a wave, noise lines and dots."""
    rng = random.Random(f"image:{seed}")
    bg = tuple(rng.randrange(20, 60) for _ in range(3))
    img = Image.new("RGB", (WIDTH, HEIGHT), bg)
    draw = ImageDraw.Draw(img)
    for _ in range(500):
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        shade = rng.randrange(60, 140)
        draw.point((x, y), fill=(shade, shade, shade))
    step = (WIDTH - 30) / len(answer)
    for i, ch in enumerate(answer):
        size = rng.randrange(34, 46)
        glyph = Image.new("RGBA", (60, 70), (0, 0, 0, 0))
        colour = (rng.randrange(170, 256), rng.randrange(170, 256), rng.randrange(120, 256), 255)
        ImageDraw.Draw(glyph).text((12, 6), ch, font=_font(size), fill=colour)
        glyph = glyph.rotate(rng.uniform(-28, 28), resample=Image.BICUBIC, expand=False)
        x = int(12 + i * step + rng.uniform(-4, 4))
        y = int(rng.uniform(-2, 12))
        img.paste(glyph, (x, y), glyph)
    # A sine wave shifts every column up or down.
    amplitude, period, phase = rng.uniform(3, 6), rng.uniform(50, 90), rng.uniform(0, 6.3)
    waved = Image.new("RGB", (WIDTH, HEIGHT), bg)
    for x in range(WIDTH):
        dy = int(amplitude * math.sin(2 * math.pi * x / period + phase))
        waved.paste(img.crop((x, 0, x + 1, HEIGHT)), (x, dy))
    draw = ImageDraw.Draw(waved)
    for _ in range(5):
        points = [(rng.randrange(WIDTH), rng.randrange(HEIGHT)) for _ in range(3)]
        shade = tuple(rng.randrange(120, 220) for _ in range(3))
        draw.line(points, fill=shade, width=rng.randrange(1, 3))
    for _ in range(2):
        box = sorted((rng.randrange(WIDTH), rng.randrange(WIDTH)))
        top = sorted((rng.randrange(HEIGHT), rng.randrange(HEIGHT)))
        draw.arc((box[0], top[0], box[1] + 10, top[1] + 10), 0, rng.randrange(90, 300), fill="grey")
    waved = waved.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    waved.save(out, "PNG")  # optimize=True doubled the cost for 1 % fewer bytes
    return out.getvalue()


def new_challenge() -> int:
    """Start a challenge for the visitor's session and return its id (for the image URL)."""
    app = current_app
    sid = session_id()
    seed = secrets.token_hex(8)
    return app.extensions["state"].new_captcha(
        app.extensions["site"].id, sid, answer_for(seed), seed
    )


def check_answer() -> bool:
    """Whether the form's CAPTCHA answer is right; every attempt uses the challenge up."""
    app = current_app
    sent = (request.form.get("captcha") or "").strip().upper().replace(" ", "")
    sid = session.sid
    if sid is None:
        return False
    answer = app.extensions["state"].take_captcha(app.extensions["site"].id, sid)
    return bool(answer) and hmac.compare_digest(sent.encode(), answer.encode())


@bp.route("/captcha/<int:captcha_id>.png")
def image(captcha_id: int):
    """The image of one of the session's challenges."""
    app = current_app
    if session.sid is None:
        abort(404)
    row = app.extensions["state"].captcha(app.extensions["site"].id, session.sid, captcha_id)
    if row is None:
        abort(404)
    response = app.response_class(render(row["seed"], row["answer"]), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response
