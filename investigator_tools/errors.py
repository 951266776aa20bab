"""Exceptions of the toolkit.

InvestigateError              every error the toolkit raises on purpose
├── CaseError                 the case file is missing, unreadable or not a case
├── NetworkError              a site, the proxy, the explorer or a portal cannot be reached
│   └── ProxyUnreachable      the proxy itself (Tor, the gateway): nothing else can be either
├── InputError                a malformed address, txid, key, URL or option value
├── RemoteError               a service answered with an error (refusal, rejected broadcast)
└── CaptchaPending            a CAPTCHA waits for a human answer: the crawl stopped to keep it
"""

from __future__ import annotations

from typing import Any


class InvestigateError(Exception):
    """Base class of the toolkit's own errors."""


class CaseError(InvestigateError):
    """The case file cannot be used."""


class NetworkError(InvestigateError):
    """Something on the network cannot be reached."""

    result: object | None = None  # what a crawl gathered before it failed, when one did


class InputError(InvestigateError):
    """The user gave a value that is not well formed."""


class ProxyUnreachable(NetworkError):
    """The proxy itself (Tor, the gateway) cannot be reached: nothing else can be either."""


class RemoteError(InvestigateError):
    """A service answered with an error."""


class CaptchaPending(InvestigateError):
    """A CAPTCHA needs an answer no one gave: the crawl stopped, keeping the open challenge.

    Raised by a crawl's CAPTCHA callback when it cannot answer now (no terminal, no answer
    in the answers file); the crawl saves the challenge and answers it first on the next run.
    """

    result: Any = None  # the CrawlResult of the run it stopped
