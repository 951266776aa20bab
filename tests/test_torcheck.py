"""check.torproject.org through the gateway: Tor's page and /api/ip, over plain HTTP and
over TLS (SOCKS and the HTTP proxy's CONNECT) with the sandbox CA's certificate; a check,
logged as one, never a containment event; unreachable without the proxy."""

from __future__ import annotations

import ipaddress
import ssl

import pytest
import requests

from sandbox.serve import Sandbox
from sandbox.torcheck.tls import ensure_ca

API = "check.torproject.org/api/ip"


@pytest.fixture(scope="module")
def served(tiny_world, tmp_path_factory):
    """The tiny world behind its gateway, with the check service."""
    state = tmp_path_factory.mktemp("torcheck-state")
    with Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        yield sb


def _socks(sb: Sandbox, user: str) -> dict[str, str]:
    """socks5h through the gateway, as a crawler configures it."""
    url = "socks5h://{}:x@{}:{}".format(user, *sb.gateway.socks_address)
    return {"http": url, "https": url}


def _proxy(sb: Sandbox) -> dict[str, str]:
    """The HTTP proxy, for http:// and (CONNECT) https://."""
    url = "http://{}:{}".format(*sb.gateway.http_address)
    return {"http": url, "https": url}


def _exit_like(address: str) -> bool:
    """A public IPv4 address, as an exit relay's is."""
    ip = ipaddress.IPv4Address(address)
    return ip.is_global and not ip.is_private


def test_api_ip_says_is_tor_over_socks(served):
    """A crawler's first fetch: http://check.torproject.org/api/ip says IsTor."""
    r = requests.get(f"http://{API}", proxies=_socks(served, "checker"), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["IsTor", "IP"] and body["IsTor"] is True
    assert _exit_like(body["IP"])
    assert r.raw.headers.getlist("Server") == ["Apache"]


def test_https_with_the_sandbox_ca(served):
    """HTTPS on 443 through SOCKS and through the HTTP proxy, verified with the CA file."""
    ca = served.ca_file
    assert ca is not None and ca.exists() and ca.parent == served.state_dir
    for proxies in (_socks(served, "tls-checker"), _proxy(served)):
        page = requests.get(
            "https://check.torproject.org/", proxies=proxies, verify=str(ca), timeout=30
        )
        assert page.status_code == 200
        assert "Congratulations. This browser is configured to use Tor." in page.text
        api = requests.get(f"https://{API}", proxies=proxies, verify=str(ca), timeout=30)
        assert api.json()["IsTor"] is True


def test_https_without_trusting_the_ca_fails(served):
    """The certificate is the sandbox's, not a public one: unverified, the client refuses."""
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://{API}", proxies=_socks(served, "strict"), timeout=30)


def test_a_check_is_logged_as_a_check_not_containment(served):
    """The stream's log row says tor-check; no containment event is written."""
    requests.get(f"http://{API}", proxies=_socks(served, "logged-check"), timeout=30)
    served.log.flush()
    rows = [r for r in served.log.recent(200) if r.visitor == "logged-check"]
    assert rows and {r.outcome for r in rows} == {"tor-check"}
    assert {r.destination for r in rows} == {"check.torproject.org"}
    assert not [e for e in served.log.containment_events() if e["visitor"] == "logged-check"]


def test_other_ports_and_torproject_names_stay_refused(served):
    """Only ports 80 and 443 of the one name: www.torproject.org is still the clearnet."""
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://check.torproject.org:8080/", proxies=_socks(served, "p"), timeout=30)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://www.torproject.org/", proxies=_socks(served, "www"), timeout=30)
    assert [e for e in served.log.containment_events() if e["visitor"] == "www"]


def test_the_ca_is_kept_across_restarts_and_a_damaged_one_is_named(tmp_path):
    """The same CA file serves a second start; a damaged one is refused naming the file."""
    first = ensure_ca(tmp_path).read_bytes()
    assert ensure_ca(tmp_path).read_bytes() == first
    assert oct((tmp_path / "sandbox-ca.key").stat().st_mode & 0o777) == "0o600"
    context = ssl.create_default_context(cafile=str(tmp_path / "sandbox-ca.pem"))
    assert context.cert_store_stats()["x509_ca"] == 1
    (tmp_path / "sandbox-ca.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match="sandbox-ca.pem: not a PEM certificate"):
        ensure_ca(tmp_path)
