"""The ``lite`` backend: BlazePose person detection and 3D landmarks on the CPU, tracked and fitted to SMPL.

Only the backend's logic lives here (``backend``: what runs per frame, in which order). Its perception (the
BlazePose detector, landmark model, anchors and tflite runner) is :mod:`ram_core.perception`, shared with the
``ram`` backend's births; its body fit is :mod:`ram_core.body`; its association :mod:`ram_core.tracking.tracker`.
"""
