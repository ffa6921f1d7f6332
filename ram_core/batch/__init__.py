"""Batch capture: many videos, on this machine or on a Ray cluster (``ram-core batch``).

``task`` captures one video (the same path as ``ram-core capture``), ``schedulers`` runs tasks on a local
pool or on Ray, ``driver`` skips finished videos and collects outcomes, ``summary`` writes the table.
"""
