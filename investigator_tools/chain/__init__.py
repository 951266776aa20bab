"""The blockchain side of the toolkit: a verified local index of the chain, and its analyses.

    sync      copy raw blocks from an Esplora explorer into the case (sync.py, parse.py)
    trace     follow money forward or back, poison / haircut / FIFO (trace.py)
    cluster   co-spend clustering with switchable change heuristics (cluster.py)
    address, path, exposure                                     (analysis.py)
    labels    the analyst's and the explorer's public labels    (labels.py)

Everything here reads the case file and talks to the explorer over HTTP only.
"""
