"""Who answers the CAPTCHAs a crawl meets on login walls: a file, a command, or a person.

Every picture is saved as `captcha-<first 12 hex digits of its SHA-256>.png` in a folder
beside the case file, then answered by the first of these that can:

1. the answers file (`--captcha-answers FILE`), one picture a line, written by hand:

       # the picture (its file name, or 8 or more hex digits of its SHA-256), then its text
       3fa2c19b0d7e  K7PXQ2
       captcha-9b41e07c22aa.png  HN4TZ8

   Blank lines and lines starting with # are skipped; a later line for a picture wins;
2. a command (`--captcha-cmd CMD`), run with the picture's path as its last argument; the
   first non-empty line it prints is the answer;
3. the person at the terminal, when standard input is one.

When none can (or the command fails), the crawl stops (CaptchaPending) saying where the
picture is and how to answer it; the next run with the answer submits that same
challenge first.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from .errors import CaptchaPending, InputError

_KEY = re.compile(r"^(?:captcha-)?([0-9a-fA-F]{8,64})(?:\.png)?$")
COMMAND_TIMEOUT = 600  # seconds: a person may be behind the command


def read_answers(path: str | Path) -> dict[str, str]:
    """The answers file as {hex prefix: text}; a file not written yet has none."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the CAPTCHA answers ({e})") from e
    answers: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, answer = line.partition(" ")
        match = _KEY.match(key)
        if match is None or not answer.strip():
            raise InputError(
                f"{path}, line {number}: expected the picture (captcha-<hex>.png, or 8 or"
                f" more hex digits of its SHA-256), a space and the text; got {line!r}"
            )
        answers[match.group(1).lower()] = answer.strip()
    return answers


def answer_for(answers: dict[str, str], digest: str) -> str | None:
    """The answer whose key starts the picture's SHA-256 (the longest such key)."""
    keys = [k for k in answers if digest.startswith(k)]
    return answers[max(keys, key=len)] if keys else None


def run_command(command: str, picture: Path) -> str:
    """The first non-empty line `command PICTURE` prints; InputError if it fails."""
    try:
        argv = [*shlex.split(command), str(picture)]
    except ValueError as e:
        raise InputError(f"--captcha-cmd {command!r}: {e}") from e
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InputError(f"--captcha-cmd {command!r} on {picture}: {e}") from e
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        why = done.stderr.strip().splitlines()[-1:] or ["no answer printed"]
        raise InputError(
            f"--captcha-cmd {command!r} on {picture}: exit status {done.returncode}, {why[0]}"
        )
    return lines[0]


class Solver:
    """A crawl's CAPTCHA callback: saves each picture, then finds someone to answer it."""

    def __init__(
        self,
        folder: Path,
        answers: Path | None = None,
        command: str | None = None,
        ask: Callable[[Path], str] | None = None,
    ):
        """Save pictures in `folder`; answer from the file, the command or `ask`, in order."""
        self.folder = folder
        self.answers = answers
        self.command = command
        self.ask = ask
        if answers is not None:
            read_answers(answers)  # a malformed file fails before the crawl starts

    def __call__(self, image: bytes) -> str:
        """The text of a CAPTCHA picture, or CaptchaPending when no one can give it now."""
        digest = hashlib.sha256(image).hexdigest()
        self.folder.mkdir(parents=True, exist_ok=True)
        picture = self.folder / f"captcha-{digest[:12]}.png"
        picture.write_bytes(image)
        if self.answers is not None:
            found = answer_for(read_answers(self.answers), digest)
            if found:
                return found
        failed = ""
        if self.command:
            try:
                return run_command(self.command, picture)
            except InputError as e:
                failed = f"{e}; "  # the challenge stays open for an answer another way
        if self.ask is not None:
            return self.ask(picture)
        line = f'"{digest[:12]} TEXT" (TEXT: the characters in the picture)'
        if self.answers is not None:
            how = f"add the line {line} to {self.answers}"
        else:
            how = (
                f"answer it with one of\n  --captcha-answers FILE   FILE holding the line {line}"
                "\n  --captcha-cmd CMD        a command run with the picture's path that prints"
                " its text\n"
            )
        raise CaptchaPending(
            f"{failed}a login needs the CAPTCHA saved as {picture}, and no one can type it"
            f" here (no terminal); {how.rstrip()}\nthen run the same command again: the crawl"
            " goes on from this CAPTCHA."
        )
