"""The toolkit on Tron: the node's and TronGrid's HTTP APIs (`node`), the case's Tron index
(`sync`), addresses, traces and clusters on it (`analysis`), the issuer's and swap
services' records (`links`), and sweeping a recovered key (`sweep`). Encodings are in
`investigator_tools.chain.codec` (`tron`, `protobuf`)."""

from .analysis import address_summary, cluster_of, trace  # noqa: E402
from .labels import TronLabels  # noqa: E402
from .links import orders, store_orders  # noqa: E402
from .node import USDT_CONTRACT, TronNode  # noqa: E402
from .sweep import sweep_tron  # noqa: E402
from .sync import sync_tron  # noqa: E402

__all__ = [
    "USDT_CONTRACT",
    "TronLabels",
    "TronNode",
    "address_summary",
    "cluster_of",
    "orders",
    "store_orders",
    "sweep_tron",
    "sync_tron",
    "trace",
]
