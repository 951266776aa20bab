"""`sandbox bundle`: everything a classroom machine needs to install the sandbox offline.

The bundle is a folder: `wheels/` (the project and every dependency as wheels, so the
classroom machine builds nothing), `requirements.txt` pinned to those wheels with their
SHA-256, `install.sh` that installs them into a venv with `pip --no-index`, the Docker
image as `image.tar` when one was built here, and `SHA256SUMS` over every file. Nothing
outside the folder is written: the project is built from a copy inside it, and pip's
temporary files and cache stay there too.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SandboxError

PROJECT = "darkweb-sandbox"
# The image the compose deployment builds, when neither its files name another.
IMAGE = "darkweb-sandbox"
PACKAGES = ("sandbox", "marketplaces", "scenarios", "investigator_tools")
MANIFEST = "SHA256SUMS"
WORK = ".work"

Report = Callable[[str], None]


class BundleError(SandboxError):
    """A bundle could not be written."""


@dataclass
class Bundle:
    """What `make_bundle` wrote."""

    path: Path
    wheels: list[str] = field(default_factory=list)
    image: str | None = None
    notes: list[str] = field(default_factory=list)
    size: int = 0
    files: int = 0


def source_tree() -> Path:
    """The project's source folder (with pyproject.toml), which the wheel is built from."""
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    try:
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        name = None
    if name != PROJECT:
        raise BundleError(
            f"{root}: not the {PROJECT} source tree (no pyproject.toml naming it); "
            "run `sandbox bundle` from a checkout installed with `pip install -e .`"
        )
    return root


def prepare(path: Path) -> Path:
    """Create the bundle folder and prove it writable, or raise one clear BundleError."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BundleError(f"{path}: cannot write the bundle there: it is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise BundleError(f"{path}: cannot write the bundle there: {e.strerror or e}") from None
    return path.resolve()


def _copy_source(root: Path, dest: Path) -> Path:
    """Copy what the wheel needs into `dest`, so building it leaves no build/ in the checkout."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (root / name).exists():
            shutil.copy2(root / name, dest / name)
    for package in PACKAGES:
        shutil.copytree(root / package, dest / package, ignore=junk)
    return dest


def _pip_env(work: Path) -> dict[str, str]:
    """pip's environment: temporary files inside the bundle, no prompts, no version check."""
    tmp = work / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "TMPDIR": str(tmp),
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


# pip's lines worth showing as progress: one per requirement resolved, wheel built or saved.
_PIP_PROGRESS = re.compile(r"^\s*(Collecting|Processing|Building wheel for|Saved) (\S+)")


def build_wheels(root: Path, wheels: Path, work: Path, extras: str, report: Report) -> list[Path]:
    """`pip wheel` the project and every dependency into `wheels`; returns the wheel files."""
    source = _copy_source(root, work / PROJECT)
    spec = f"{source}[{extras}]" if extras else str(source)
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-cache-dir",  # a cache would be written outside the bundle
        "--progress-bar",
        "off",
        "--wheel-dir",
        str(wheels),
        spec,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_pip_env(work),
        cwd=work,
    )
    tail: list[str] = []
    assert process.stdout is not None  # stdout=PIPE
    for line in process.stdout:
        tail = [*tail[-29:], line.rstrip()]
        if match := _PIP_PROGRESS.match(line):
            report(f"{match.group(1).lower()} {Path(match.group(2)).name}")
    if process.wait() != 0:
        raise BundleError("pip wheel failed:\n" + "\n".join(tail))
    return sorted(wheels.glob("*.whl"))


def _sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks (an image tar can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def requirements(wheels: list[Path]) -> str:
    """requirements.txt pinning every bundled wheel by version and SHA-256."""
    lines = [
        "# Pinned to the wheels of this bundle (written by `sandbox bundle`); pip checks each",
        "# hash, so a damaged or swapped wheel is refused.",
    ]
    pins = []
    for wheel in wheels:
        name, version = wheel.name.split("-")[:2]
        pins.append((re.sub(r"[-_.]+", "-", name).lower(), version, _sha256(wheel)))
    lines += [f"{name}=={version} --hash=sha256:{digest}" for name, version, digest in sorted(pins)]
    return "\n".join(lines) + "\n"


INSTALL_SH = """\
#!/bin/sh
# Install the darkweb-investigation sandbox from this bundle, with no internet.
#   sh install.sh [VENV]     VENV defaults to ./.venv; then: VENV/bin/sandbox up
# Written by `sandbox bundle` for Python {python} ({platform}); PYTHON=... picks the interpreter.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${{1:-.venv}}
python=${{PYTHON:-python3}}
# The bundle is the only source of packages: no index, and no pip configuration of this
# machine's that could name one or add constraints.
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIREMENT 2>/dev/null || true

if command -v sha256sum >/dev/null 2>&1; then
    echo "[1/4] checking the bundle against {manifest} ..."
    if ! (cd "$here" && sha256sum --quiet --check {manifest}); then
        echo "install.sh: $here is damaged or incomplete (see the files above); copy it again" >&2
        exit 1
    fi
else
    echo "[1/4] sha256sum not found: the bundle is not checked"
fi
have=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || have=none
if [ "$have" != "{python}" ]; then
    echo "install.sh: the wheels are for Python {python}, but $python is $have (set PYTHON=python{python})" >&2
    exit 1
fi
echo "[2/4] creating the venv $venv ..."
if ! "$python" -m venv "$venv"; then
    echo "install.sh: $python -m venv failed (Debian: apt-get install python3-venv)" >&2
    exit 1
fi
echo "[3/4] installing {count} wheels from $here/wheels (no index) ..."
"$venv/bin/python" -m pip install --quiet --no-index --find-links "$here/wheels" \\
    --require-hashes --requirement "$here/requirements.txt"
if [ -f "$here/image.tar" ]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
        echo "[4/4] loading the Docker image {image} ..."
        docker load --input "$here/image.tar"
    else
        echo "[4/4] Docker is not running here: load the image later with docker load -i $here/image.tar"
    fi
else
    echo "[4/4] no Docker image in this bundle"
fi
echo "installed: $("$venv/bin/sandbox" --version) in $venv; start it with: $venv/bin/sandbox up"
"""


def install_script(count: int, image: str | None) -> str:
    """install.sh for wheels of this interpreter."""
    return INSTALL_SH.format(
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        platform=sys.platform,
        manifest=MANIFEST,
        count=count,
        image=image or "-",
    )


def image_names(root: Path) -> list[str]:
    """Image names to look for: those docker-compose.yml gives, then the default."""
    names = []
    compose = root / "docker-compose.yml"
    if compose.exists():
        names += re.findall(r"""(?m)^\s*image:\s*["']?([^\s"'#]+)""", compose.read_text())
    return list(dict.fromkeys([*names, IMAGE]))


def save_image(root: Path, work: Path, dest: Path, wanted: str | None) -> tuple[str | None, str]:
    """`docker save` the sandbox's image to `dest`; returns (image or None, a note)."""
    docker = shutil.which("docker")
    if docker is None:
        return None, "Docker not found: no image in the bundle"

    def run(*args: str) -> subprocess.CompletedProcess:
        """A docker command, its output captured."""
        return subprocess.run([docker, *args], capture_output=True, text=True, timeout=1800)

    if run("info").returncode != 0:
        return None, "Docker is not running: no image in the bundle"
    for name in [wanted] if wanted else image_names(root):
        if run("image", "inspect", name).returncode == 0:
            break
    else:
        return None, (
            f"no Docker image {wanted or ' or '.join(image_names(root))} built here: "
            "no image in the bundle (build it first, then bundle again)"
        )
    partial = work / "image.tar"
    saved = run("save", "--output", str(partial), name)
    if saved.returncode != 0:
        raise BundleError(f"docker save {name} failed: {saved.stderr.strip()}")
    partial.chmod(0o644)  # docker save writes 0600; the bundle is copied and read by others
    os.replace(partial, dest)
    return name, f"Docker image {name} saved"


def write_manifest(path: Path) -> tuple[int, int]:
    """Write SHA256SUMS (sha256sum's format) over every file; returns (files, bytes)."""
    lines, size = [], 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if rel == MANIFEST or rel.startswith(WORK + "/"):
            continue
        lines.append(f"{_sha256(file)}  {rel}\n")
        size += file.stat().st_size
    (path / MANIFEST).write_text("".join(lines))
    return len(lines), size


def verify_manifest(path: Path) -> list[str]:
    """Files of a bundle whose SHA-256 differs from SHA256SUMS, or that are missing or unlisted."""
    listed = {}
    for line in (path / MANIFEST).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    problems = [
        f"{rel}: {'missing' if not (path / rel).is_file() else 'hash differs'}"
        for rel, digest in listed.items()
        if not (path / rel).is_file() or _sha256(path / rel) != digest
    ]
    for file in path.rglob("*"):
        rel = file.relative_to(path).as_posix()
        if file.is_file() and rel != MANIFEST and rel not in listed:
            problems.append(f"{rel}: not in {MANIFEST}")
    return problems


def make_bundle(
    path: Path,
    *,
    with_test: bool = False,
    image: str | None = None,
    with_image: bool = True,
    report: Report = lambda _: None,
    step: Report = lambda _: None,
) -> Bundle:
    """Write the offline bundle to `path`; `step` gets each stage, `report` pip's progress."""
    path = prepare(path)
    root = source_tree()
    work = path / WORK
    shutil.rmtree(work, ignore_errors=True)
    bundle = Bundle(path)
    try:
        step("wheelhouse: pip wheel of the project and every dependency")
        fresh = work / "wheels"
        wheels = build_wheels(root, fresh, work, "test" if with_test else "", report)
        # Swap in the new wheelhouse whole: an old wheel left beside it would be found too.
        shutil.rmtree(path / "wheels", ignore_errors=True)
        os.replace(fresh, path / "wheels")
        wheels = sorted((path / "wheels").glob("*.whl"))
        bundle.wheels = [w.name for w in wheels]
        step(f"requirements.txt and install.sh for {len(wheels)} wheels")
        (path / "requirements.txt").write_text(requirements(wheels))
        (path / "image.tar").unlink(missing_ok=True)
        if with_image:
            step("Docker image")
            bundle.image, note = save_image(root, work, path / "image.tar", image)
            bundle.notes.append(note)
        else:
            bundle.notes.append("--no-image: no Docker image in the bundle")
        script = path / "install.sh"
        script.write_text(install_script(len(wheels), bundle.image))
        script.chmod(0o755)
        shutil.rmtree(work, ignore_errors=True)
        step(f"{MANIFEST}: SHA-256 of every file")
        bundle.files, bundle.size = write_manifest(path)
    except OSError as e:
        raise BundleError(f"{path}: cannot write the bundle: {e}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return bundle
