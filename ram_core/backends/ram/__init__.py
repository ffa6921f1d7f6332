"""The ``ram`` backend: the full RAM method (SegFollow on SAM2.1, T-HMR, Predictor, Combiner).

- `config`: :class:`RamBackendConfig` (from ``$RAM_BACKEND_CONFIG``), standard library only.
- `pipeline`: :func:`build_pipeline` (weights through the weights table) and :class:`RamPipeline`
  (per frame: SegFollow, then every person through the Regressor as one batch).
- `backend`: :class:`RamBackend`, the worker's backend: pipeline outputs -> records.

Importing `pipeline` or `backend` imports torch and sam2; the registry imports them only when chosen.
"""
