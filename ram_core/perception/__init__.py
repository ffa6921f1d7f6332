"""Perception shared by the backends: people and their 2D/3D landmarks in a frame, no tracking, no body fit.

* :mod:`ram_core.perception.tflite`: the BlazePose ``.tflite`` files (found in MediaPipe's wheel) and a
  batched LiteRT runner for them.
* :mod:`ram_core.perception.anchors`: SSD anchors and box decoding for BlazePose's person detector.
* :mod:`ram_core.perception.blazepose_detector`: BlazePose's detector over overlapping tiles (many people).
* :mod:`ram_core.perception.landmarks`: BlazePose's 33 landmarks for every person box, one batched call.
* :mod:`ram_core.perception.people`: what landmarks say about a person in the frame: a steady box, the frame
  with them painted out, a colour appearance.
* :mod:`ram_core.perception.torchvision_detector`: torchvision's COCO person detectors (torch).
* :mod:`ram_core.perception.person_detector`: the births' detector (torchvision if its file is there, else
  BlazePose's).

Nothing here imports torch at import time except ``torchvision_detector`` and ``person_detector``, so the
``lite`` backend runs where only MediaPipe's wheel and LiteRT are installed.
"""
