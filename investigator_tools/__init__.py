"""The investigator's toolkit: reaches the sandbox only over the network, like real tools."""

__version__ = "0.1.0"

from .case import Case  # noqa: E402 - the version stays first, for tools that read it
from .correlate import correlate  # noqa: E402
from .crawl import crawl  # noqa: E402
from .errors import (  # noqa: E402
    CaseError,
    InputError,
    InvestigateError,
    NetworkError,
    RemoteError,
)
from .extract import extract  # noqa: E402

__all__ = [
    "Case",
    "CaseError",
    "InputError",
    "InvestigateError",
    "NetworkError",
    "RemoteError",
    "correlate",
    "crawl",
    "extract",
]

# Chain analysis, exchange requests and sweeps.
from .chain.analysis import address_summary, exposure, shortest_path  # noqa: E402
from .chain.cluster import cluster  # noqa: E402
from .chain.labels import import_explorer_labels, remove_label, set_label  # noqa: E402
from .chain.sync import sync  # noqa: E402
from .chain.trace import trace  # noqa: E402
from .esplora import Esplora  # noqa: E402
from .request import submit_request  # noqa: E402
from .sweep import sweep  # noqa: E402

__all__ += [
    "Esplora",
    "address_summary",
    "cluster",
    "exposure",
    "import_explorer_labels",
    "remove_label",
    "set_label",
    "shortest_path",
    "submit_request",
    "sweep",
    "sync",
    "trace",
]

# Case graph and report.
from .graph import case_graph  # noqa: E402
from .graph_render import write_graph  # noqa: E402
from .report import write_report  # noqa: E402

__all__ += ["case_graph", "write_graph", "write_report"]
