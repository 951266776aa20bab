"""The investigator's toolkit: reaches the sandbox only over the network, like real tools."""

__version__ = "0.1.0"
