"""A client of a Tron node's HTTP API (java-tron's /wallet/*) and TronGrid's /v1/*.

    node = TronNode("http://127.0.0.1:8090")                 # direct
    node = TronNode("http://api.trongrid.test", proxy=None)  # .test names via the gateway

java-tron answers 200 even for errors, with {"Error": ...} or {"code", "message"}: those
become RemoteError with the node's words.
"""

from __future__ import annotations

from ..errors import RemoteError
from ..esplora import HttpClient

__all__ = ["USDT_CONTRACT", "TronNode"]

USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # Tether USD on Tron mainnet
DEFAULT_NODE = "http://127.0.0.1:8090/"
EVENT_PAGE = 200  # TronGrid's largest page


class TronNode:
    """The node at url: /wallet/* for blocks and transactions, /v1/* for events."""

    def __init__(self, url: str = DEFAULT_NODE, proxy: str | None = None, timeout: float = 60):
        """A node (or TronGrid) at url."""
        self.http = HttpClient(url, proxy, timeout)
        self.url = self.http.base + "/"

    @property
    def proxy(self) -> str | None:
        """The proxy used to reach it, if any."""
        return self.http.proxy

    def wallet(self, method: str, body: dict | None = None) -> dict:
        """POST /wallet/<method> with a JSON body; the answer, or RemoteError on {"Error"}."""
        path = f"wallet/{method}"
        response = self.http.request("POST", path, json={"visible": True, **(body or {})})
        try:
            answer = response.json()
        except ValueError:
            raise RemoteError(f"{self.http.url(path)}: the answer is not JSON") from None
        if isinstance(answer, dict) and "Error" in answer:
            raise RemoteError(f"{self.http.url(path)}: {answer['Error']}")
        if not isinstance(answer, dict):
            raise RemoteError(f"{self.http.url(path)}: the answer is not a JSON object")
        return answer

    def grid(self, path: str, params: dict | None = None) -> dict:
        """GET /v1/<path>: TronGrid's envelope, or RemoteError when it says it failed."""
        response = self.http.request("GET", f"v1/{path}", params=params, ok=range(200, 500))
        try:
            answer = response.json()
        except ValueError:
            raise RemoteError(f"{self.http.url('v1/' + path)}: the answer is not JSON") from None
        if response.status_code != 200 or not answer.get("success", False):
            raise RemoteError(f"{self.http.url('v1/' + path)}: {answer.get('error', answer)}")
        return answer

    def head(self) -> tuple[int, str]:
        """(number, block id) of the node's latest block."""
        block = self.wallet("getnowblock")
        return int(block["block_header"]["raw_data"].get("number", 0)), block["blockID"]

    def block(self, number: int) -> dict:
        """Block `number` ({} when the node has none)."""
        return self.wallet("getblockbynum", {"num": number})

    def blocks(self, start: int, end: int) -> list[dict]:
        """Blocks start <= n < end (at most 100 a call)."""
        return self.wallet("getblockbylimitnext", {"startNum": start, "endNum": end}).get(
            "block", []
        )

    def events(self, contract: str, min_ms: int, max_ms: int) -> list[dict]:
        """Every event of a contract in blocks stamped min_ms..max_ms, oldest first."""
        params: dict = {
            "order_by": "block_timestamp,asc",
            "min_timestamp": min_ms,
            "max_timestamp": max_ms,
            "limit": EVENT_PAGE,
        }
        out: list[dict] = []
        while True:
            page = self.grid(f"contracts/{contract}/events", params)
            out += page.get("data", [])
            fingerprint = page.get("meta", {}).get("fingerprint")
            if not fingerprint:
                return out
            params = {**params, "fingerprint": fingerprint}

    def account(self, address: str) -> dict:
        """getaccount ({} for an account never activated)."""
        return self.wallet("getaccount", {"address": address})

    def usdt_balance(self, address: str, contract: str = USDT_CONTRACT) -> int:
        """balanceOf(address) of the USDT contract, from a constant call."""
        from ..chain.codec.tron import tron_hex

        answer = self.wallet(
            "triggerconstantcontract",
            {
                "owner_address": address,
                "contract_address": contract,
                "function_selector": "balanceOf(address)",
                "parameter": tron_hex(address)[2:].rjust(64, "0"),
            },
        )
        results = answer.get("constant_result") or ["0"]
        return int(results[0] or "0", 16)

    def tx(self, txid: str) -> dict:
        """gettransactionbyid ({} when unknown)."""
        return self.wallet("gettransactionbyid", {"value": txid})

    def tx_info(self, txid: str) -> dict:
        """gettransactioninfobyid: the receipt once in a block, {} before."""
        return self.wallet("gettransactioninfobyid", {"value": txid})
