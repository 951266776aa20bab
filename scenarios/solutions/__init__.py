"""Reference solutions of the built-in scenarios, run by `sandbox check`."""
