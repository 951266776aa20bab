"""The Tron chain's build-time simulation: a world's whole Tron history, driven by its scenario."""
