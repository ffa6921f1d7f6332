"""SegFollow's association logic, shared by the `lite` backend, `ram-core track` and the SAM2 tracker.

- `boxes`: box formats and the pairwise IoU matrix.
- `kalman`: pure kernels of a constant-velocity box filter.
- `selector`: motion score, gate, gated-sum selection, confidence-gated update, EMA memory.
- `association`: the association settings both trackers embed, each with its own defaults.
- `tracker`: a multi-target tracker over detector boxes built from those pieces.
- `swaps`: offline repair of box tracks that exchanged their people where they met (`ram-core track`).
- `relink`: offline re-linking of box tracklets across gaps (`ram-core track`).
- `mot`: MOTChallenge text files and `track_detections`.
"""
