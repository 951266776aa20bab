"""A small client of the Esplora REST API (Blockstream's electrs, mempool.space, the sandbox's).

    ex = Esplora("http://127.0.0.1:3000/")                  # direct
    ex = Esplora("http://explorer.test/", proxy="socks5h://127.0.0.1:9050")

`.onion` and `.test` names are always reached through the proxy (the Tor-like gateway
by default) and resolved there (socks5h); IP addresses and other names go direct, since
the gateway refuses them. Unreachable hosts raise NetworkError, error answers RemoteError.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit

import requests

from .errors import InputError, NetworkError, RemoteError
from .net import SOCKS_REPLIES, socks_code

__all__ = ["DEFAULT_EXPLORER", "DEFAULT_PROXY", "Esplora", "HttpClient", "proxy_for"]

DEFAULT_EXPLORER = "http://127.0.0.1:3000/"
DEFAULT_PROXY = "socks5h://127.0.0.1:9050"
PROXIED_SUFFIXES = (".onion", ".test")
USER_AGENT = "investigate/0.1 (sandbox toolkit)"


def proxy_for(host: str, proxy: str | None = None, always: bool = False) -> str | None:
    """The proxy URL to reach host with: the gateway for .onion/.test names (or always)."""
    if not always and not host.lower().rstrip(".").endswith(PROXIED_SUFFIXES):
        return None
    proxy = proxy or os.environ.get("INVESTIGATE_PROXY") or DEFAULT_PROXY
    if "://" not in proxy:
        proxy = "socks5h://" + proxy
    return proxy


def _reason(error: Exception) -> str:
    """The innermost, most telling part of a requests/PySocks error."""
    seen: BaseException = error
    while seen.__context__ is not None and seen.__context__ is not seen:
        seen = seen.__context__
    text = str(seen) or type(seen).__name__
    return text if len(text) < 300 else text[:300] + "..."


class HttpClient:
    """HTTP to one site, through the gateway when its name calls for it; thread-safe."""

    def __init__(
        self, base_url: str, proxy: str | None = None, timeout: float = 60, always_proxy=False
    ):
        """A client of the site at base_url (a path is kept as a prefix).

        always_proxy sends even IPs and other names through the proxy (exchange portals
        exist only behind the gateway, so a name it refuses is no exchange at all).
        """
        parts = urlsplit(base_url if "://" in base_url else "http://" + base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"{base_url!r} is not an http(s) URL")
        self.host = parts.hostname
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.proxy = proxy_for(self.host, proxy, always_proxy)
        self.timeout = timeout
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        """This thread's session (requests sessions are not shared between threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # an HTTP(S)_PROXY of the host must not reroute us
            session.headers["User-Agent"] = USER_AGENT
            if self.proxy:
                session.proxies = {"http": self.proxy, "https": self.proxy}
            self._local.session = session
        return session

    def url(self, path: str) -> str:
        """The absolute URL of a path under the base."""
        return self.base + "/" + path.lstrip("/")

    def request(self, method: str, path: str, ok=(200,), **kwargs) -> requests.Response:
        """Send a request; NetworkError if the site cannot be reached, RemoteError on an error."""
        url = self.url(path)
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.Timeout:
            raise NetworkError(f"{url}: no answer within {self.timeout:g} s") from None
        except requests.exceptions.RequestException as e:
            raise NetworkError(self._unreachable(url, _reason(e))) from None
        if response.status_code not in ok:
            text = response.text.strip().replace("\n", " ")
            text = text if len(text) < 500 else text[:500] + "..."
            raise RemoteError(f"{url} answered HTTP {response.status_code}: {text}")
        return response

    def _unreachable(self, url: str, reason: str) -> str:
        """Why a request got no answer, in words."""
        code = socks_code(reason)
        if self.proxy and code is not None and "socks" in reason.lower() + self.proxy:
            meaning = SOCKS_REPLIES.get(code, reason)
            return f"cannot reach {self.host}: the gateway at {self.proxy} refused it ({meaning})"
        if self.proxy and ("refused" in reason.lower() or "proxy" in reason.lower()):
            return (
                f"cannot reach {self.host}: the proxy at {self.proxy} is not answering "
                f"({reason}); is the sandbox up?"
            )
        via = f" through {self.proxy}" if self.proxy else ""
        return f"cannot reach {url}{via}: {reason}"


class Esplora:
    """The Esplora REST API of an explorer, and its web pages (for public labels)."""

    def __init__(self, url: str = DEFAULT_EXPLORER, proxy: str | None = None, timeout: float = 60):
        """An explorer at url: its root (API under /api) or its API root (ending in /api)."""
        web = url.rstrip("/")
        if web.endswith("/api"):
            web = web[: -len("/api")]
        self.web = HttpClient(web, proxy, timeout)
        self.api = HttpClient(web + "/api", proxy, timeout)
        self.url = self.web.base + "/"

    @property
    def proxy(self) -> str | None:
        """The proxy used to reach it, if any."""
        return self.api.proxy

    def text(self, path: str) -> str:
        """A text answer of the API, stripped."""
        return self.api.request("GET", path).text.strip()

    def json(self, path: str):
        """A JSON answer of the API."""
        response = self.api.request("GET", path)
        try:
            return response.json()
        except ValueError:
            raise RemoteError(f"{self.api.url(path)}: the answer is not JSON") from None

    def tip_height(self) -> int:
        """The height of the best block."""
        text = self.text("blocks/tip/height")
        if not text.isdigit():
            raise RemoteError(f"{self.api.url('blocks/tip/height')}: not a height: {text[:80]!r}")
        return int(text)

    def tip_hash(self) -> str:
        """The hash of the best block."""
        return self.text("blocks/tip/hash")

    def block_hash(self, height: int) -> str:
        """The hash of the block at a height."""
        return self.text(f"block-height/{height}")

    def block_raw(self, block_hash: str) -> bytes:
        """A whole serialized block, witnesses included."""
        return self.api.request("GET", f"block/{block_hash}/raw").content

    def block_txids(self, block_hash: str) -> list[str]:
        """Every txid of a block."""
        return self.json(f"block/{block_hash}/txids")

    def tx(self, txid: str) -> dict:
        """A transaction's JSON."""
        return self.json(f"tx/{txid}")

    def tx_hex(self, txid: str) -> str:
        """A raw transaction in hex."""
        return self.text(f"tx/{txid}/hex")

    def tx_status(self, txid: str) -> dict:
        """A transaction's confirmation status."""
        return self.json(f"tx/{txid}/status")

    def address(self, address: str) -> dict:
        """An address's chain and mempool counters."""
        return self.json(f"address/{address}")

    def address_utxo(self, address: str) -> list[dict]:
        """An address's unspent outputs (txid, vout, value, status)."""
        return self.json(f"address/{address}/utxo")

    def fee_estimates(self) -> dict:
        """Confirmation target (blocks) -> fee rate (sat/vB)."""
        return self.json("fee-estimates")

    def broadcast(self, raw_hex: str) -> str:
        """Submit a signed transaction; its txid, or RemoteError with the explorer's reason."""
        response = self.api.request("POST", "tx", data=raw_hex, ok=range(100, 600))
        if response.status_code != 200:
            raise RemoteError(f"broadcast rejected by the explorer: {response.text.strip()}")
        return response.text.strip()

    def page(self, path: str) -> requests.Response:
        """A page of the explorer's web UI."""
        return self.web.request("GET", path)
