"""Simulated Tor latency: circuit-building delay and circuit failures (off by default).

A Tor stream waits for a circuit (for an onion service: descriptor fetch, introduction
and rendezvous) before it connects; that wait is a few hundred milliseconds with a
long tail. The model draws that delay from a log-normal distribution and, with a
configurable probability, fails the circuit the way Tor reports it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["CircuitFailure", "CircuitPlan", "LatencyModel"]

# Where a simulated circuit breaks: at the onion service's introduction point, at the
# rendezvous point, or (for .test names, reached through an exit) on the exit circuit.
CircuitFailure = Literal["intro", "rendezvous", "exit"]

# Heavy tails are realistic, but a stream must not hang for minutes.
_TAIL_CAP = 8.0


@dataclass(frozen=True, slots=True)
class CircuitPlan:
    """How one stream's circuit goes: its delay in seconds and its failure, if any."""

    delay: float
    failure: CircuitFailure | None = None


class LatencyModel:
    """Tor-like circuit delay and failure chance for each new stream."""

    def __init__(
        self,
        enabled: bool = False,
        mean_ms: float = 450.0,
        jitter_ms: float = 300.0,
        circuit_failure_rate: float = 0.0,
        seed: int | None = None,
    ):
        """Configure the model; ``jitter_ms`` is the standard deviation of the delay."""
        if mean_ms < 0 or jitter_ms < 0:
            raise ValueError("mean_ms and jitter_ms must be >= 0")
        if not 0.0 <= circuit_failure_rate <= 1.0:
            raise ValueError(f"circuit_failure_rate must be in [0, 1], got {circuit_failure_rate}")
        self.enabled = enabled
        self.mean_ms = float(mean_ms)
        self.jitter_ms = float(jitter_ms)
        self.circuit_failure_rate = float(circuit_failure_rate)
        self.seed = seed
        self._rng = random.Random(seed)

    def __repr__(self) -> str:
        """Show the settings."""
        return (
            f"LatencyModel(enabled={self.enabled}, mean_ms={self.mean_ms}, "
            f"jitter_ms={self.jitter_ms}, circuit_failure_rate={self.circuit_failure_rate}, "
            f"seed={self.seed})"
        )

    def delay(self) -> float:
        """Draw one circuit delay in seconds (log-normal with the configured mean and spread)."""
        if self.mean_ms <= 0:
            return 0.0
        if self.jitter_ms <= 0:
            return self.mean_ms / 1000.0
        sigma2 = math.log1p((self.jitter_ms / self.mean_ms) ** 2)
        mu = math.log(self.mean_ms) - sigma2 / 2
        ms = self._rng.lognormvariate(mu, math.sqrt(sigma2))
        return min(ms, self.mean_ms * _TAIL_CAP) / 1000.0

    def plan(self, onion: bool) -> CircuitPlan:
        """Plan the circuit of one new stream; no delay and no failure when disabled."""
        if not self.enabled:
            return CircuitPlan(0.0)
        delay = self.delay()
        if self._rng.random() >= self.circuit_failure_rate:
            return CircuitPlan(delay)
        if not onion:
            return CircuitPlan(delay, "exit")
        return CircuitPlan(delay, self._rng.choice(("intro", "rendezvous")))
