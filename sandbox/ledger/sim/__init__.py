"""The build-time simulation: the world's whole chain history, generated from a scenario."""
