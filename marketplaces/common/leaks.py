"""Planted OPSEC mistakes in the formats real tools look for.

`server_status`: Apache's mod_status page at /server-status (and ?auto), showing the
server's real IP and the other virtual hosts it serves. `open_directory`: an Apache
"Index of /uploads" listing with the uploaded photos, a config backup and a note.
`analytics_id`: the pages embed an analytics snippet (in the base template). Sites
without the mistake answer 404 on these paths.
"""

from __future__ import annotations

import io
import random
import threading
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, request
from PIL import Image, ImageDraw

from sandbox.text import ascii_fold

from .photos import render_photo
from .world import Site, World

bp = Blueprint("leaks", __name__)

APACHE = "Apache/2.4.62 (Debian)"
APACHE_BUILT = "2024-07-25T12:19:37"
ICONS = ("blank", "back", "image2", "text", "unknown", "folder")

_sizes: dict[tuple[str, int], int] = {}
_sizes_lock = threading.Lock()


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits of a text."""
    return "".join(c for c in ascii_fold(text).lower() if c.isalnum())


def clearnet_domain(world: World, site: Site) -> str:
    """The clearnet vhost the same server also hosts: the operator's blog, as on the social site."""
    if site.operator_id:
        name = world.actors.name(site.operator_id)
        if name:
            return f"{_slug(name) or 'myblog'}.blog.test"
    return f"{_slug(site.name) or 'www'}-hosting.test"


def _now() -> int:
    """The world's clock: the last block's time plus the time the app has been running."""
    return current_app.extensions["clock"]()


def _apache_time(ts: int) -> str:
    """A time as mod_status prints it."""
    return datetime.fromtimestamp(ts, UTC).strftime("%A, %d-%b-%Y %H:%M:%S UTC")


def _uptime(seconds: int) -> str:
    """An uptime as mod_status words it."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)


def _public_paths(world: World, site: Site, rng: random.Random) -> list[str]:
    """Paths visitors of the onion request, drawn from the site's real content."""
    paths = ["/", "/login", "/static/css/base.css", "/logo.svg", "/pgp.txt", "/mirrors.txt"]
    if site.kind in ("market", "shop"):
        listings = world.listings.page(site.id, limit=30)
        paths += [f"/listing/{row['id']}" for row in listings]
        paths += [f"/vendor/{row['vendor']}" for row in listings[:5]]
    elif site.kind == "forum":
        boards = world.boards.of_site(site.id)
        paths += [f"/board/{b['id']}" for b in boards]
    rng.shuffle(paths)
    return paths


def status_data(world: World, site: Site) -> dict:
    """Everything the server-status page shows, stable for a site except the clock."""
    rng = random.Random(f"server-status:{world.seed}:{site.id}")
    now = _now()
    restarted = now - rng.randrange(3 * 86_400, 40 * 86_400)
    uptime = now - restarted
    accesses = uptime * rng.randrange(2, 9) // 3
    traffic_kb = accesses * rng.randrange(9, 24)
    blog = clearnet_domain(world, site)
    paths = _public_paths(world, site, rng)
    blog_paths = [
        "/",
        "/feed/",
        "/wp-login.php",
        "/2025/11/hello-world/",
        "/about/",
        "/favicon.ico",
    ]
    visitors = [
        f"{rng.choice(('192.0.2.', '198.51.100.', '203.0.113.'))}{rng.randrange(2, 254)}"
        for _ in range(6)
    ]
    workers = []
    generation = rng.randrange(3, 30)
    for slot in range(rng.randrange(14, 20)):
        mode = rng.choice("__________KKKW")
        if slot % 5 == 1:
            client, vhost, req = "127.0.0.1", f"{site.address}:80", rng.choice(paths)
        elif slot % 5 == 3:
            client, vhost, req = rng.choice(visitors), f"{blog}:443", rng.choice(blog_paths)
        elif slot == 4:
            client, vhost, req = site.server_ip, f"{blog}:80", "/server-status?auto"
        elif slot == 9:
            client, vhost, req = site.server_ip, f"{site.server_ip}:80", "/"
        else:
            client, vhost, req = "127.0.0.1", f"{site.address}:80", rng.choice(paths)
        method = "POST" if req == "/login" and rng.random() < 0.5 else "GET"
        workers.append(
            {
                "srv": f"{slot}-{generation - 1}",
                "pid": rng.randrange(1000, 40_000),
                "acc": f"{rng.randrange(0, 3)}/{rng.randrange(10, 300)}/{rng.randrange(300, 9000)}",
                "mode": mode,
                "cpu": f"{rng.uniform(0, 9):.2f}",
                "ss": rng.randrange(0, 40),
                "req": rng.randrange(0, 30),
                "dur": rng.randrange(0, 4000),
                "conn": f"{rng.uniform(0, 40):.1f}",
                "child": f"{rng.uniform(0, 9):.2f}",
                "slot": f"{rng.uniform(10, 400):.2f}",
                "client": client,
                "protocol": "http/1.1",
                "vhost": vhost,
                "request": f"{method} {req} HTTP/1.1",
            }
        )
    busy = sum(1 for w in workers if w["mode"] in "WK")
    scoreboard = "".join(w["mode"] for w in workers).ljust(75, "_") + "." * 325
    return {
        "site": site,
        "server_ip": site.server_ip,
        "version": APACHE,
        "built": APACHE_BUILT,
        "current": _apache_time(now),
        "restart": _apache_time(restarted),
        "generation": generation,
        "uptime": _uptime(uptime),
        "uptime_seconds": uptime,
        "load": " ".join(f"{rng.uniform(0, 1.2):.2f}" for _ in range(3)),
        "accesses": accesses,
        "traffic": f"{traffic_kb / 1024 / 1024:.1f} GB",
        "traffic_kb": traffic_kb,
        "duration": accesses * rng.randrange(2, 9),
        "req_per_sec": f"{accesses / max(1, uptime):.3g}",
        "busy": max(1, busy),
        "idle": 75 - max(1, busy),
        "scoreboard": [scoreboard[i : i + 64] for i in range(0, len(scoreboard), 64)],
        "scoreboard_flat": scoreboard,
        "workers": workers,
    }


@bp.route("/server-status")
def server_status():
    """Apache's mod_status page, left open on sites where the scenario planted it."""
    site: Site = current_app.extensions["site"]
    if not site.has_mistake("server_status"):
        abort(404)
    data = status_data(current_app.extensions["world"], site)
    if "auto" in request.args:
        body = render_template("leaks/server_status_auto.txt", **data)
        return current_app.response_class(body, mimetype="text/plain")
    return render_template("leaks/server_status.html", **data)


# -- open directory ----------------------------------------------------------------------


def apache_size(size: int) -> str:
    """A size as Apache's directory index prints it (apr_strfsize)."""
    if size < 973:
        return f"{size:3d} "
    units = "KMGTPE"
    o = 0
    while True:
        remain = size & 1023
        size >>= 10
        if size >= 973:
            o += 1
            continue
        if size < 9 or (size == 9 and remain < 973):
            remain = ((remain * 5) + 256) // 512
            if remain >= 10:
                size, remain = size + 1, 0
            return f"{size}.{remain}{units[o]}"
        if remain >= 512:
            size += 1
        return f"{size:3d}{units[o]}"


def _photo_size(site: Site, photo: dict) -> int:
    """Size of a photo's JPEG, remembered once computed."""
    key = (site.id, photo["id"])
    with _sizes_lock:
        size = _sizes.get(key)
    if size is None:
        size = len(render_photo(photo))
        with _sizes_lock:
            _sizes[key] = size
    return size


def warm_sizes(world: World, site: Site) -> None:
    """Compute the sizes of every upload in the background, so the index opens fast."""

    def run() -> None:
        """Render each photo once."""
        for photo in world.photos.of_site(site.id):
            _photo_size(site, photo)

    threading.Thread(target=run, name=f"uploads-{site.id}", daemon=True).start()


def _extra_files(world: World, site: Site) -> dict[str, tuple[str, int]]:
    """The non-photo files of /uploads/: name -> (content, modification time)."""
    rng = random.Random(f"uploads:{world.seed}:{site.id}")
    blog = clearnet_domain(world, site)
    db_user = (_slug(site.name)[:10] or "site") + "_app"
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(14))
    # An operator who reuses one address has it in the config as the commission payout.
    wallet = world.wallets.personal(site.operator_id) if site.operator_id else None
    payout = world.wallets.published(wallet["id"]) if wallet else None
    config = "\n".join(
        [
            "<?php",
            f"// {site.name} - configuration (copy before the v2 migration, delete me!)",
            f"define('SITE_NAME', '{site.name}');",
            f"define('SITE_URL', 'http://{site.address}');",
            f"define('DB_HOST', 'db1.{blog}');",
            "define('DB_PORT', 3306);",
            f"define('DB_NAME', '{_slug(site.name)[:12] or 'site'}');",
            f"define('DB_USER', '{db_user}');",
            f"define('DB_PASS', '{password}');",
            f"define('BTC_RPC_HOST', '{site.server_ip}');",
            "define('BTC_RPC_PORT', 8332);",
            *(
                [f"define('COMMISSION_PAYOUT_ADDRESS', '{payout}'); // admin cut, paid weekly"]
                if payout
                else []
            ),
            "define('UPLOAD_DIR', '/var/www/market/uploads/');",
            "define('STRIP_EXIF', false); // TODO turn back on after fixing imagick",
            "define('DEBUG', true);",
            "",
        ]
    )
    note = "\n".join(
        [
            "todo",
            f"- renew the VPS ({site.server_ip}) before the end of the month",
            f"- move the blog ({blog}) to another box, same server is a bad idea",
            "- turn exif stripping back on",
            "- delete config.php.bak from uploads",
            "",
        ]
    )
    base = world.start - rng.randrange(5 * 86_400, 30 * 86_400)
    return {
        "config.php.bak": (config, base),
        "todo.txt": (note, base + rng.randrange(86_400, 4 * 86_400)),
    }


def _uploads(world: World, site: Site) -> dict[str, dict]:
    """Every file of /uploads/ by name: photos (first of a name wins) and the extra files."""
    files: dict[str, dict] = {}
    for photo in world.photos.of_site(site.id):
        if photo["filename"] not in files:
            when = photo["taken"] or photo["listing_created"] or world.start
            files[photo["filename"]] = {"photo": photo, "mtime": when}
    for name, (content, mtime) in _extra_files(world, site).items():
        files[name] = {"content": content, "mtime": mtime}
    return files


def _planted_directory() -> tuple[World, Site]:
    """The world and site, or 404 when the site has no open directory."""
    site: Site = current_app.extensions["site"]
    if not site.has_mistake("open_directory"):
        abort(404)
    return current_app.extensions["world"], site


@bp.route("/uploads/")
def uploads_index():
    """Apache's "Index of /uploads" listing."""
    world, site = _planted_directory()
    rows = []
    for name, entry in sorted(_uploads(world, site).items(), key=lambda kv: kv[0].lower()):
        if "photo" in entry:
            size, icon, alt = _photo_size(site, entry["photo"]), "image2", "IMG"
        else:
            size = len(entry["content"].encode())
            icon, alt = ("text", "TXT") if name.endswith(".txt") else ("unknown", "   ")
        rows.append(
            {
                "name": name,
                "modified": datetime.fromtimestamp(entry["mtime"], UTC).strftime("%Y-%m-%d %H:%M"),
                "size": apache_size(size),
                "icon": icon,
                "alt": alt,
            }
        )
    return render_template(
        "leaks/index_of.html", path="/uploads", rows=rows, site=site, version=APACHE
    )


@bp.route("/uploads/<name>")
def uploads_file(name: str):
    """One file of the open directory, served as Apache would."""
    world, site = _planted_directory()
    entry = _uploads(world, site).get(name)
    if entry is None:
        abort(404)
    if "photo" in entry:
        return current_app.response_class(render_photo(entry["photo"]), mimetype="image/jpeg")
    mimetype = "text/plain" if name.endswith(".txt") else "application/x-trash"
    return current_app.response_class(entry["content"], mimetype=mimetype)


def _icon(name: str) -> bytes:
    """A small GIF like Apache's directory icons."""
    img = Image.new("P", (20, 22), 0)
    img.putpalette([255, 255, 255, 0, 0, 0, 120, 120, 120, 60, 110, 200] + [0] * 756)
    draw = ImageDraw.Draw(img)
    if name != "blank":
        draw.polygon([(3, 1), (13, 1), (17, 5), (17, 20), (3, 20)], fill=2, outline=1)
        if name == "image2":
            draw.rectangle((6, 9, 14, 16), fill=3)
        elif name == "back":
            draw.line((6, 11, 14, 11), fill=1, width=2)
            draw.line((6, 11, 9, 8), fill=1)
        elif name == "text":
            for y in (7, 10, 13, 16):
                draw.line((6, y, 14, y), fill=1)
    out = io.BytesIO()
    img.save(out, "GIF", transparency=0)
    return out.getvalue()


@bp.route("/icons/<name>.gif")
def icon(name: str):
    """Apache's /icons/ that the directory index refers to."""
    _planted_directory()
    if name not in ICONS:
        abort(404)
    return current_app.response_class(_icon(name), mimetype="image/gif")
