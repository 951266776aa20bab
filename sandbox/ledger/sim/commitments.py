"""Blocks' witness commitments (BIP141), signed in a worker process while the simulation runs.

A block's coinbase commits to the wtxids of its transactions, so every segwit input is
signed at build time: two fifths of the ledger's work. Those signatures change nothing
the simulation decides, and the coinbase's own txid is needed only once its reward is
spent (100 blocks on at the earliest), so a second core signs batches of blocks while the
simulation goes on, and the chain seals each block when its commitment comes back. The
worker is forked like the key stream's (wallet.py); where no process can be started,
batches are signed in-process.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from ..block import witness_commitment_script
from ..codec.hashes import sha256d
from ..witness import Spent, with_witnesses, witness_section

# What a block's commitment needs of one transaction: its wtxid when it has no witness
# (its txid), else its witness-less raw bytes and the (value, type, secret, public key)
# of each output it spends.
Entry = bytes | tuple[bytes, list[tuple[int, str, bytes, bytes]]]


def commitments(blocks: list[list[Entry] | None]) -> list[bytes | None]:
    """The witness commitment script of each block (None for a block with no segwit input)."""
    scripts: list[bytes | None] = []
    for entries in blocks:
        if entries is None:
            scripts.append(None)
            continue
        wtxids = [bytes(32)]  # the coinbase's slot, counted as zero
        for entry in entries:
            if isinstance(entry, bytes):
                wtxids.append(entry)
            else:
                raw, spent = entry
                section = witness_section(raw, [Spent(*s) for s in spent])
                wtxids.append(sha256d(with_witnesses(raw, section)))
        scripts.append(witness_commitment_script(wtxids))
    return scripts


class Batch:
    """Blocks whose commitments are signed together; sent to the signer when full."""

    def __init__(self) -> None:
        """An empty batch, not yet sent."""
        self.blocks: list[list[Entry] | None] = []
        self._result: Future | list[bytes | None] | None = None

    @property
    def sent(self) -> bool:
        """Whether the batch was handed to the signer."""
        return self._result is not None

    def signed_as(self, result: Future | list[bytes | None]) -> None:
        """Note the signer's answer: the commitments, or the worker's future of them."""
        self._result = result
        self.blocks = []

    def done(self) -> bool:
        """Whether its commitments are ready."""
        return isinstance(self._result, list) or (
            isinstance(self._result, Future) and self._result.done()
        )

    def script(self, index: int) -> bytes | None:
        """The commitment of its index-th block, waiting for the worker if need be."""
        if isinstance(self._result, Future):
            self._result = self._result.result()
        assert isinstance(self._result, list)  # the chain sends a batch before it asks
        return self._result[index]


class CommitmentSigner:
    """Signs batches of blocks in one forked worker, or in-process where none can start."""

    def __init__(self) -> None:
        """Start the worker."""
        self._pool: ProcessPoolExecutor | None = None
        try:
            if "fork" in multiprocessing.get_all_start_methods():
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        except OSError:
            self._pool = None

    def send(self, batch: Batch) -> None:
        """Hand a batch over for signing."""
        if self._pool is not None:
            batch.signed_as(self._pool.submit(commitments, batch.blocks))
        else:
            batch.signed_as(commitments(batch.blocks))

    def close(self) -> None:
        """Stop the worker."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
