"""The state folder's secret key files (sandbox/keyfile.py): one key however many
processes create it at once, never a half-written one."""

from __future__ import annotations

import multiprocessing
import stat

from sandbox.keyfile import load_key


def _load(path, start, out) -> None:
    """In a child process: wait for the others, then load the key."""
    start.wait()
    out.put(load_key(path))


def test_processes_creating_the_key_together_all_get_the_same_one(tmp_path):
    """`sandbox up` and its workers start at once: every process ends up with the key in
    the file, and the folder holds nothing else."""
    for attempt in range(15):
        path = tmp_path / f"race{attempt}.secret"
        context = multiprocessing.get_context("fork")
        start, out = context.Barrier(6), context.Queue()
        children = [context.Process(target=_load, args=(path, start, out)) for _ in range(6)]
        for child in children:
            child.start()
        keys = {out.get(timeout=30) for _ in children}
        for child in children:
            child.join(timeout=30)
        assert keys == {path.read_bytes()} and len(path.read_bytes()) == 32
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"race{i}.secret" for i in range(15))


def test_the_key_is_the_owners_only_and_kept(tmp_path):
    path = tmp_path / "a.secret"
    key = load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key


def test_a_short_key_left_by_a_crash_is_replaced(tmp_path):
    """A file shorter than a key (an older version stopped while writing) is no key."""
    path = tmp_path / "a.secret"
    path.write_bytes(b"abc")
    key = load_key(path)
    assert len(key) == 32 and path.read_bytes() == key
