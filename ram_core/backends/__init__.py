"""Capture backends: each turns video frames into per-person SMPL motion (see DESIGN.md, "Backends").

``lite`` runs BlazePose's models from MediaPipe's wheel on the CPU; ``ram`` is the paper's system.
"""
