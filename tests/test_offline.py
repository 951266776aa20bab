"""Offline install (`sandbox bundle`) and offline content (docs/architecture.md, rule 4), end to end.

The bundle is made once per module (pip wheel of every dependency: the 'with internet'
side, which may use the package registry); the install then runs with `--no-index` in a
fresh venv, inside a network namespace of its own when `unshare` works here, so the
test proves it needs no network at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import tomllib
from ipaddress import ip_address, ip_network
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from click.testing import CliRunner

from sandbox import __version__
from sandbox.bundle import MANIFEST, WORK, save_image, verify_manifest
from sandbox.cli import cli
from sandbox.serve import Sandbox

from .test_marketplaces import _bad_hosts_in_html

ROOT = Path(__file__).resolve().parents[1]


def _invoke(*args) -> tuple[int, str]:
    """Run the sandbox CLI in-process; returns (exit code, stdout and stderr)."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _offline_env() -> dict[str, str]:
    """This process's environment less pip's settings, as on a classroom machine."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}


def _isolated(command: list[str]) -> list[str]:
    """`command` in a network namespace with no interfaces up, where unshare allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True).returncode == 0:
        return [unshare, "--net", *command]
    return command


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """`sandbox bundle` of the checkout, made once (the image is tested on its own)."""
    path = tmp_path_factory.mktemp("offline") / "bundle"
    before = {p.name for p in ROOT.iterdir()}
    started = time.perf_counter()
    code, output = _invoke("bundle", path, "--no-image", "--quiet")
    took = time.perf_counter() - started
    assert code == 0, output
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"\nsandbox bundle: {took:.1f} s, {size / 1e6:.1f} MB")
    # Building the project's wheel in the checkout would leave build/ there.
    assert {p.name for p in ROOT.iterdir()} - before <= {".pytest_cache"}
    return path


def _pins(path: Path) -> dict[str, str]:
    """requirements.txt of a bundle as {name: version}."""
    pins = {}
    for line in (path / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split()[0].split("==")
            pins[name] = version
    return pins


def _normal(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.slow  # pip wheels every dependency, then installs them into a fresh venv
def test_bundle_installs_offline_into_a_fresh_venv(bundle, tmp_path):
    """install.sh installs the project from the wheelhouse alone; `sandbox` runs from the venv."""
    venv = tmp_path / "classroom-venv"
    started = time.perf_counter()
    install = subprocess.run(
        _isolated(["sh", str(bundle / "install.sh"), str(venv)]),
        cwd=tmp_path,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(f"\ninstall.sh --no-index: {time.perf_counter() - started:.1f} s")
    assert install.returncode == 0, install.stdout + install.stderr
    assert "installed: sandbox, version" in install.stdout
    version = subprocess.run(
        [venv / "bin" / "sandbox", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert version.returncode == 0 and version.stdout.strip() == f"sandbox, version {__version__}"
    # It is the venv's copy that runs, with its package data (scenarios, templates).
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import marketplaces, sandbox; print(sandbox.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    assert list(venv.glob("lib/python*/site-packages/marketplaces/templates/**/*.html"))
    validate = subprocess.run(
        [venv / "bin" / "sandbox", "validate", "intro"], capture_output=True, text=True
    )
    assert validate.returncode == 0, validate.stderr
    freeze = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "freeze", "--all"], capture_output=True, text=True
    )
    installed = dict(line.split("==") for line in freeze.stdout.split() if "==" in line)
    # Every bundled wheel, at its pinned version (the venv also keeps ensurepip's setuptools).
    assert _pins(bundle).items() <= {_normal(k): v for k, v in installed.items()}.items()


@pytest.mark.slow  # the bundle (every dependency's wheel)
def test_manifest_and_pins_cover_every_file_and_dependency(bundle):
    """SHA256SUMS verifies and lists every file; requirements pin every wheel and dependency."""
    assert verify_manifest(bundle) == []
    assert not (bundle / WORK).exists()
    listed = {line.split("  ", 1)[1] for line in (bundle / MANIFEST).read_text().splitlines()}
    assert {"install.sh", "requirements.txt"} <= listed
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    assert {f"wheels/{w.name}" for w in wheels} <= listed
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "--quiet", "--check", MANIFEST], cwd=bundle, capture_output=True
        )
        assert check.returncode == 0, check.stdout
    pins = _pins(bundle)
    assert len(pins) == len(wheels) and pins["darkweb-sandbox"] == __version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        assert _normal(name) in pins, requirement
    assert not (bundle / "image.tar").exists()


@pytest.mark.slow  # the bundle (every dependency's wheel)
def test_a_damaged_bundle_is_refused(bundle, tmp_path):
    """install.sh checks SHA256SUMS first: one changed byte stops it before any venv exists."""
    if not shutil.which("sha256sum"):
        pytest.skip("sha256sum not installed: install.sh cannot check the bundle here")
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    wheel = next((copy / "wheels").glob("darkweb_sandbox-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    assert verify_manifest(copy) == [f"wheels/{wheel.name}: hash differs"]
    install = subprocess.run(
        ["sh", str(copy / "install.sh"), str(tmp_path / "venv")],
        env=_offline_env(),
        capture_output=True,
        text=True,
    )
    assert install.returncode == 1
    assert "damaged or incomplete" in install.stderr
    assert not (tmp_path / "venv").exists()


def test_unwritable_dir_is_one_clear_error(tmp_path):
    """A DIR that cannot be written: one line naming it, exit 1, nothing created."""
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    targets = [afile, afile / "bundle"]
    if os.geteuid() != 0:  # root writes through any mode bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        targets.append(locked / "bundle")
    for target in targets:
        started = time.perf_counter()
        code, output = _invoke("bundle", target)
        assert code == 1, output
        lines = output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{target}: cannot write"), output
        assert time.perf_counter() - started < 5  # refused before any pip run
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["afile", *(["locked"] if os.geteuid() != 0 else [])]
    )
    assert afile.read_text() == "not a folder"


@pytest.mark.docker
def test_bundle_saves_the_docker_image(tmp_path, docker_daemon):
    """With Docker and a built image, the bundle carries it as image.tar; install.sh loads it."""
    # A one-file image made without any registry stands in for the real one, which is big.
    name = "darkweb-sandbox-bundle-test:latest"
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "rootfs" / "marker").write_text("bundle test\n")
    layer = tmp_path / "rootfs.tar"
    subprocess.run(["tar", "-cf", layer, "-C", tmp_path / "rootfs", "."], check=True)
    subprocess.run(["docker", "import", layer, name], check=True, capture_output=True)
    try:
        code, output = _invoke("bundle", tmp_path / "b", "--image", name, "--quiet")
        assert code == 0, output
        assert f"Docker image {name} saved" in output
        assert verify_manifest(tmp_path / "b") == []
        tar = subprocess.run(
            ["tar", "-tf", tmp_path / "b" / "image.tar"], capture_output=True, text=True
        )
        assert "manifest.json" in tar.stdout.split()
        # The classroom side: install.sh loads the image into a Docker that lacks it.
        subprocess.run(["docker", "image", "rm", "-f", name], check=True, capture_output=True)
        install = subprocess.run(
            ["sh", str(tmp_path / "b" / "install.sh"), str(tmp_path / "venv")],
            env=_offline_env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert install.returncode == 0, install.stdout + install.stderr
        assert f"loading the Docker image {name}" in install.stdout
        inspect = subprocess.run(["docker", "image", "inspect", name], capture_output=True)
        assert inspect.returncode == 0
    finally:
        subprocess.run(["docker", "image", "rm", "-f", name], capture_output=True)


def test_bundle_without_docker_image_says_so(tmp_path, monkeypatch):
    """No Docker (or no image): the bundle is still made, with a printed note."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no docker on PATH
    image, note = save_image(ROOT, tmp_path, tmp_path / "image.tar", None)
    assert image is None and note == "Docker not found: no image in the bundle"
    assert not (tmp_path / "image.tar").exists()


# -- no outside host anywhere -------------------------------------------------------------

SCANNED = ("sandbox", "marketplaces", "scenarios", "investigator_tools")
SUFFIXES = {".py", ".html", ".htm", ".css", ".js", ".svg", ".txt", ".yaml", ".yml", ".md", ".json"}
# Names that never leave the sandbox or the machine: the world's own top-level names
# (architecture rule 6) and the names RFC 2606 and RFC 6761 reserve for tests and examples.
LOCAL_SUFFIXES = (".onion", ".test", ".invalid", ".example", ".localhost")
LOCAL_HOSTS = {"localhost", "0.0.0.0"}
# Loopback and the RFC 5737 documentation ranges, which no real host has.
LOCAL_NETS = [
    ip_network(n) for n in ("127.0.0.0/8", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]
# References that do name an outside host but are never fetched, each with its reason.
NOT_FETCHED = {
    # The draft 2020-12 metaschema's identifier: jsonschema ships that metaschema and
    # resolves the name from memory, never over the network.
    ("scenarios/schema.json", "json-schema.org"),
    # The XML namespace of SVG: a name that tells an SVG file apart, not a download.
    ("marketplaces/templates/branding/logo.svg", "www.w3.org"),
    # Tor's check service: a name the sandbox serves itself (sandbox/torcheck), reached only
    # through its gateway, for tools that test their proxy first.
    ("sandbox/cli.py", "check.torproject.org"),
    ("sandbox/torcheck/__init__.py", "check.torproject.org"),
    # Licence and credit comments of the libraries bundled in the vendored Cytoscape.js
    # (`investigate ui`'s graph): text in a comment, never a request.
    ("investigator_tools/ui/static/vendor/cytoscape.min.js", "engelschall.com"),
    ("investigator_tools/ui/static/vendor/cytoscape.min.js", "opensource.org"),
    ("investigator_tools/ui/static/vendor/cytoscape.min.js", "en.wikipedia.org"),
    ("investigator_tools/ui/static/vendor/cytoscape.min.js", "github.com"),
}

# scheme://host, any scheme (http, https, ws, ftp, socks5h ...).
SCHEME_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s'\"<>()\[\]\\`|,;]*)", re.I)
# //host relative to the page's scheme, only as a value (after a quote, "(" or "="): that
# leaves out Python's // operator, comments, and a DOCTYPE's "-//W3C//DTD" identifier.
RELATIVE_URL = re.compile(r"""(?<=["'(=])//([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)""")
ATTRIBUTE = re.compile(
    r"""\b(?:src|href|action|srcset|poster|formaction|data)\s*=\s*["']([^"']*)""", re.I
)
CSS_URL = re.compile(r"""(?:@import\s+|url\(\s*)["']?([^"')\s;]+)""", re.I)


def _outside(host: str) -> bool:
    """Whether a URL's host would leave the machine (placeholders and world names do not)."""
    host = host.rsplit("@", 1)[-1].strip("[]").lower()
    host = re.sub(r":[^:]*$", "", host) if host.count(":") == 1 else host
    if not host or any(c in host for c in "{}<>$%*"):
        return False  # no host (file:///), or a value filled in at run time
    if host in LOCAL_HOSTS or host.endswith(LOCAL_SUFFIXES):
        return False
    try:
        return not any(ip_address(host) in net for net in LOCAL_NETS) and host != "::1"
    except ValueError:
        pass
    # A name without a dot is no internet host: help texts' HOST, a bare "host:port".
    return "." in host.strip(".")


def _hosts_of_line(line: str) -> list[str]:
    """Every host a line of source refers to as a URL, an attribute, @import or url()."""
    hosts = [m.group(1) for m in SCHEME_URL.finditer(line)]
    hosts += [m.group(1) for m in RELATIVE_URL.finditer(line)]
    for m in (*ATTRIBUTE.finditer(line), *CSS_URL.finditer(line)):
        value = m.group(1)
        if value.startswith("//") or "://" in value:
            hosts.append(urlsplit(value if "://" in value else "http:" + value).netloc)
    return hosts


def test_no_source_file_refers_to_an_outside_host():
    """Every template, static file, .py, .yaml, .md and .json of the packages stays inside."""
    bad, scanned, excused = [], 0, set()
    for package in SCANNED:
        for file in sorted((ROOT / package).rglob("*")):
            if file.suffix not in SUFFIXES or "__pycache__" in file.parts:
                continue
            scanned += 1
            rel = file.relative_to(ROOT).as_posix()
            for n, line in enumerate(file.read_text(errors="replace").splitlines(), 1):
                for host in _hosts_of_line(line):
                    name = host.rsplit("@", 1)[-1].split(":")[0].lower()
                    if not _outside(host):
                        continue
                    if (rel, name) in NOT_FETCHED:
                        excused.add((rel, name))
                    else:
                        bad.append(f"{rel}:{n}: {host}: {line.strip()[:120]}")
    assert scanned > 200, scanned
    # An exception whose reference is gone must go too, or it would excuse a new one.
    assert excused == NOT_FETCHED
    assert not bad, "outside hosts:\n" + "\n".join(bad)


def test_the_scanner_catches_what_it_must():
    """The source scan flags CDNs, fonts and protocol-relative links, not local names."""
    caught = [
        '<script src="https://cdn.jsdelivr.net/npm/x.js"></script>',
        "<link href='//fonts.googleapis.com/css?family=Inter' rel=stylesheet>",
        "@import url(https://fonts.example.com/a.css);",
        "body { background: url(//img.host.net/a.png) }",
        'requests.get("http://api.ipify.org")',
        'ws = "wss://relay.example.org:443/x"',
    ]
    for line in caught:
        assert any(_outside(h) for h in _hosts_of_line(line)), line
    kept = [
        'href="http://{{ site.address }}/"',
        'f"http://{host}:{port}/"',
        "curl --socks5-hostname 127.0.0.1:9050 http://abc.onion/",
        '"socks5h://HOST:PORT"',
        '<a href="/listing/3">x</a> <img src="../static/a.png">',
        "http://explorer.test/api/tx/ab http://192.0.2.7/ http://localhost:3000/",
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">',
        "return total // 2  # half",
        "urn:darkweb-sandbox:scenario:v2 file:///etc/x",
    ]
    for line in kept:
        assert not any(_outside(h) for h in _hosts_of_line(line)), line


def _css_and_js_hosts(text: str) -> list[str]:
    """Outside hosts a stylesheet or script refers to."""
    return [h for h in _hosts_of_line(text) if _outside(h)]


def test_every_front_page_through_the_gateway_stays_inside(tiny_world, tmp_path):
    """Each site's front page, fetched through the gateway, links and loads only world hosts."""
    with Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, state=tmp_path / "state"
    ) as sandbox:
        run = sandbox.describe()
        world = {s["address"] for s in run["sites"]} | {run["classroom_name"]}
        session = requests.Session()
        proxy = f"socks5h://{run['socks']}"
        session.proxies = {"http": proxy, "https": proxy}
        bad, fetched = [], 0
        for host in sorted(world):
            base = f"http://{host}/"
            page = session.get(base, timeout=30)
            assert page.status_code == 200, (host, page.status_code)
            fetched += 1
            bad += [f"{host}/: {b}" for b in _bad_hosts_in_html(page.text, world)]
            html = BeautifulSoup(page.text, "html.parser")
            for tag in html.find_all(True):
                for attr in ("href", "src", "action", "srcset", "poster", "formaction", "data"):
                    value = tag.get(attr)
                    target = urlsplit(urljoin(base, value)) if value else None
                    outside = target and target.scheme in ("http", "https")
                    if outside and target.hostname not in world:
                        bad.append(f"{host}/: {tag.name}[{attr}]={value}")
            # The stylesheets and scripts the page loads: their url(), @import and URLs.
            assets = [link.get("href") for link in html.find_all("link", href=True)]
            assets += [script.get("src") for script in html.find_all("script", src=True)]
            for asset in assets:
                url = urljoin(base, asset)
                if urlsplit(url).hostname != host or not url.endswith((".css", ".js")):
                    continue
                response = session.get(url, timeout=30)
                assert response.status_code == 200, url
                fetched += 1
                bad += [f"{url}: {h}" for h in _css_and_js_hosts(response.text)]
    assert len(world) >= 8 and fetched > len(world)
    assert not bad, "\n".join(bad)
