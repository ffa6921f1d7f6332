"""The ``lite`` backend: BlazePose person detection and 3D landmarks on the CPU, tracked and fitted to SMPL.

Perception: ``detector`` (people over overlapping tiles), ``landmarks`` (batched 33-landmark pose per
person crop), ``models`` (finds the .tflite files in MediaPipe's wheel, runs them with ``ai_edge_litert``),
``anchors`` (SSD anchor generation and decoding).
"""
