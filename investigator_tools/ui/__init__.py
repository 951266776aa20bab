"""`investigate ui`: the toolkit in the browser, over the same case file and the same network.

A local web app (Flask, one blueprint per area: `collect`, `evidence`, `money`, `act`,
`reports`) served by waitress on 127.0.0.1 only, behind a random token; it calls the
toolkit's own modules (crawl, extract, correlate, chain sync, analysis and trace, labels,
`workspace`, request, report) and reaches the sandbox only through the explorer's API and
the proxy, like the command line.
"""

from .app import create_app
from .context import Settings
from .server import UiServer

__all__ = ["Settings", "UiServer", "create_app"]
