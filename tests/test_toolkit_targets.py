"""Commands given a bad address or txid refuse it at once: one error, exit 1, no case file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from investigator_tools.cli import cli as investigate
from investigator_tools.errors import InputError
from investigator_tools.targets import check_target

GOOD_BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
GOOD_P2PKH = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
GOOD_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
BAD_BECH32 = GOOD_BTC[:-1] + "x"  # one character off: the checksum fails
BAD_BASE58 = GOOD_P2PKH[:-1] + "3"
BAD_TRON = GOOD_TRON[:-1] + "u"
REQUEST = [
    "--legal-basis",
    "court_order",
    "--case-number",
    "OP-1",
    "--agency",
    "Cyber Unit",
    "--officer",
    "J. Smith",
    "--email",
    "j.smith@police.test",
    "--ask",
    "kyc",
]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["trace", "notanaddress"], "TARGET 'notanaddress'"),
        (["trace", BAD_BECH32], "bad bech32 checksum"),
        (["trace", "ab" * 31], "62 hex digits where a txid has 64"),
        (["trace", BAD_TRON], "its checksum fails"),
        (["trace", GOOD_TRON, "--chain", "btc"], f"TARGET {GOOD_TRON!r}"),
        (["address", BAD_BASE58], "bad base58check checksum"),
        (["address", "ab" * 32], "ADDRESS"),  # a txid is not an address
        (["cluster", BAD_TRON], "TARGET"),
        (["cluster", "--show", BAD_BECH32], "--show"),
        (["path", GOOD_BTC, BAD_BECH32], "TARGET"),
        (["exposure", BAD_BASE58], "ADDRESS"),
        (["label", BAD_TRON, "suspect"], "ADDRESS"),
        (["request", "coinvault.test", "--subject", "notanaddress", *REQUEST], "--subject"),
        (
            [
                "request",
                "tether.test",
                "--subject",
                GOOD_TRON,
                "--wallet",
                BAD_TRON,
                *REQUEST[:-1],
                "reissue",
            ],
            "--wallet",
        ),
        (["sweep", "--key", "L1abc", "--to", BAD_BECH32], "--to"),
        (["sweep", "--chain", "tron", "--key", "00" * 32, "--to", GOOD_BTC], "--to"),
    ],
)
def test_bad_target_is_refused_before_the_case_exists(tmp_path, args, named):
    """One error line naming the argument and the fault, exit 1, and no case file made."""
    case = tmp_path / "op.db"
    result = CliRunner().invoke(investigate, ["--case", str(case), *args])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert named in result.stderr
    assert "index" not in result.stderr  # not a complaint about the (absent) index
    assert not case.exists()


def test_good_targets_pass():
    """Checksummed addresses, txids and outputs pass, stripped."""
    everything = ("btc", "tron", "txid", "outpoint")
    for text in (GOOD_BTC, GOOD_P2PKH, GOOD_TRON, "ab" * 32, "AB" * 32 + ":3"):
        assert check_target(f" {text} ", "TARGET", everything) == text
    with pytest.raises(InputError, match="not a valid Bitcoin address"):
        check_target(GOOD_TRON, "--to", ("btc",))
