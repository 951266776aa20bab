"""The node's JSON writer (render.dumps) writes the bytes json.dumps wrote before it.

Every answer of the node goes through it; clients that hash or compare answers (and the
node's own tests) rely on java-tron's compact form staying byte for byte the same.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.tronnode.render import dumps


def _json(value) -> bytes:
    """What the node wrote before render.dumps."""
    return json.dumps(value, separators=(",", ":")).encode()


# What the node's answers hold: str keys, any text, ints of any size, no floats but the
# two getnodeinfo shows.
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.sampled_from([0.0, 5.0]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(deadline=None)  # a correctness test: no timing, on a busy machine too
@given(_values)
def test_dumps_writes_what_json_wrote(value):
    assert dumps(value) == _json(value)


def test_dumps_falls_back_where_orjson_differs_or_refuses():
    for value in (
        {"name": "Tether USD \u00e9\u4e2d"},  # json escapes non-ASCII, orjson would not
        ["\x7f"],  # nor DEL
        {"amount": 2**64},  # orjson refuses ints beyond 64 bits
        {"amount": -(2**63) - 1},
        {1: "a", "b": [{2: None}]},  # and keys that are not str
        {"c": '\x00\x1f\n\t\\"/'},
    ):
        assert dumps(value) == _json(value), value


def test_dumps_refuses_what_json_refuses():
    with pytest.raises(TypeError):
        dumps({"raw": b"\x00"})
