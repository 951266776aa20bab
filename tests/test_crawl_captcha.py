"""`investigate crawl --login` without a terminal: CAPTCHAs answered from a file or a command.

The tests play the trainee who reads the picture: like test_crawl's `human`, they take the
newest challenge's answer from the site's state file (the crawler asks one at a time).
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from investigator_tools.captcha import answer_for, read_answers
from investigator_tools.case import Case
from investigator_tools.cli import cli as investigate
from investigator_tools.errors import InputError
from tests.test_crawl import address, serve, socks

ROOT = Path(__file__).resolve().parent.parent
PICTURE = re.compile(r"saved as (\S+captcha-([0-9a-f]{12})\.png)")


@pytest.fixture(scope="module")
def sandbox(tiny_world, tmp_path_factory):
    """The tiny world, served for this module."""
    with serve(tiny_world, tmp_path_factory.mktemp("captcha-state")) as running:
        yield running


def newest_answer(sandbox) -> str:
    """What the trainee reads in the picture the crawler saved last."""
    conn = sqlite3.connect(sandbox.state / "state.db")
    try:
        return conn.execute("SELECT answer FROM captchas ORDER BY id DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def wall(sandbox) -> str:
    """A market page behind its login wall."""
    return f"http://{address(sandbox, 'market')}/messages?to=kestrel"


def crawl_args(sandbox, case: Path, user: str) -> list[str]:
    """`investigate crawl` of the walled page, logging in as `user`."""
    return [
        "--case",
        str(case),
        "crawl",
        wall(sandbox),
        "--proxy",
        socks(sandbox),
        "--depth",
        "0",
        "--rate",
        "0",
        "--no-probe",
        "--no-images",
        "--login",
        f"{user}:a long pass 51",
    ]


def logged_in_capture(case_path: Path, url: str) -> bytes:
    """The body captured for the walled page."""
    with Case(case_path) as case:
        return next(c.body for c in case.captures() if c.url == url)


def test_no_terminal_stops_then_the_answers_file_goes_on(sandbox, tmp_path):
    """Without a terminal the crawl stops (exit 3) naming the picture and both options, not
    "Aborted!"; answers written in a file, a run at a time, get it through the login wall."""
    case_path = tmp_path / "op.db"
    args = crawl_args(sandbox, case_path, "nottyuser")
    first = CliRunner().invoke(investigate, args)
    assert first.exit_code == 3, first.output
    assert "Aborted" not in first.output
    assert "--captcha-answers" in first.stderr and "--captcha-cmd" in first.stderr
    found = PICTURE.search(first.stderr)
    assert found, first.stderr
    picture = Path(found.group(1))
    assert picture.parent == tmp_path / "op-captchas"
    assert picture.read_bytes().startswith(b"\x89PNG")

    answers = tmp_path / "answers.txt"
    # The first answer by the picture's file name, the next ones by the hex it names.
    answers.write_text(f"# read by hand\n{picture.name} {newest_answer(sandbox)}\n")
    runs = [first]
    for _ in range(3):
        run = CliRunner().invoke(investigate, [*args, "--captcha-answers", str(answers)])
        runs.append(run)
        if run.exit_code != 3:
            break
        # The login failed (no such account): the registration shows a new picture.
        found = PICTURE.search(run.stderr)
        assert found and str(answers) in run.stderr, run.stderr
        with answers.open("a") as out:
            out.write(f"{found.group(2)}  {newest_answer(sandbox)}\n")
    assert runs[-1].exit_code == 0, runs[-1].output
    assert len(runs) == 3  # stopped at the login's CAPTCHA, then the registration's, then in
    body = logged_in_capture(case_path, wall(sandbox))
    assert b"Logged in as" in body
    with Case(case_path) as case:
        events = [r[0] for r in case.conn.execute("SELECT event FROM crawl_events ORDER BY id")]
        assert events[-1] == "register"
        assert case.get_meta("crawl_captcha_pending") == {}


def test_captcha_command_answers_without_a_terminal(sandbox, tmp_path):
    """--captcha-cmd runs the command with the picture's path and types what it prints; the
    crawl runs as a subprocess whose standard input is not a terminal."""
    script = tmp_path / "read_captcha.py"
    script.write_text(
        "import sqlite3, sys\n"
        "state, picture = sys.argv[1], sys.argv[2]\n"
        "if not open(picture, 'rb').read().startswith(b'\\x89PNG'):\n"
        "    sys.exit('not a picture: ' + picture)\n"
        "conn = sqlite3.connect(state)\n"
        "print(conn.execute('SELECT answer FROM captchas ORDER BY id DESC').fetchone()[0])\n"
    )
    command = shlex.join([sys.executable, str(script), str(sandbox.state / "state.db")])
    case_path = tmp_path / "cmd.db"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from investigator_tools.cli import cli; cli()",
            *crawl_args(sandbox, case_path, "cmduser"),
            "--captcha-cmd",
            command,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert b"Logged in as" in logged_in_capture(case_path, wall(sandbox))
    assert len(list((tmp_path / "cmd-captchas").glob("captcha-*.png"))) == 2  # login, register


def test_bad_answers_file_and_failing_command(sandbox, tmp_path):
    """A malformed answers file fails before any case file exists; a failing command stops
    the crawl with one message naming it, the picture and the other way to answer."""
    answers = tmp_path / "answers.txt"
    answers.write_text("K7PXQ2\n")
    case_path = tmp_path / "bad.db"
    args = crawl_args(sandbox, case_path, "baduser")
    result = CliRunner().invoke(investigate, [*args, "--captcha-answers", str(answers)])
    assert result.exit_code == 1
    assert f"{answers}, line 1" in result.stderr
    assert not case_path.exists()
    result = CliRunner().invoke(investigate, [*args, "--captcha-cmd", "false"])
    assert result.exit_code == 3  # the CAPTCHA still waits, for an answer given another way
    assert "--captcha-cmd 'false'" in result.stderr and "exit status 1" in result.stderr
    assert PICTURE.search(result.stderr) and "--captcha-answers" in result.stderr


def test_answers_file_format(tmp_path):
    """Comments, file names, hex prefixes; the longest matching key wins."""
    path = tmp_path / "a.txt"
    assert read_answers(path) == {}
    path.write_text("# x\n\ncaptcha-3fa2c19b0d7e.png K7PXQ2\n3FA2C19B  OTHER\n")
    answers = read_answers(path)
    assert answers == {"3fa2c19b0d7e": "K7PXQ2", "3fa2c19b": "OTHER"}
    assert answer_for(answers, "3fa2c19b0d7e" + "0" * 52) == "K7PXQ2"
    assert answer_for(answers, "3fa2c19b11" + "0" * 54) == "OTHER"
    assert answer_for(answers, "ab" * 32) is None
    path.write_text("3fa2c19 TOO-SHORT\n")
    with pytest.raises(InputError, match="line 1"):
        read_answers(path)


def test_a_voided_challenge_starts_the_login_afresh(sandbox, tmp_path):
    """A run without --login fetches the login page, which opens a new challenge and voids the
    saved one: the next run asks for the new picture (answers go by the picture's hash, so
    the stale answer in the file is not sent)."""
    case_path = tmp_path / "stale.db"
    args = crawl_args(sandbox, case_path, "staleuser")
    first = CliRunner().invoke(investigate, args)
    assert first.exit_code == 3, first.output
    old = PICTURE.search(first.stderr).group(2)
    answers = tmp_path / "answers.txt"
    answers.write_text(f"{old} {newest_answer(sandbox)}\n")
    login_page = f"http://{address(sandbox, 'market')}/login"
    without_login = [login_page if a == wall(sandbox) else a for a in args[: args.index("--login")]]
    assert CliRunner().invoke(investigate, without_login).exit_code == 0
    again = CliRunner().invoke(investigate, [*args, "--captcha-answers", str(answers)])
    assert again.exit_code == 3, again.output
    assert PICTURE.search(again.stderr).group(2) != old
    assert str(answers) in again.stderr
