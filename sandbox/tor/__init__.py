"""A real, fully private Tor network on loopback that publishes the world's onion services."""

from __future__ import annotations

from .network import PrivateTorNetwork, TorError, TorNotInstalled, find_tor, onion_sites

__all__ = ["PrivateTorNetwork", "TorError", "TorNotInstalled", "find_tor", "onion_sites"]
