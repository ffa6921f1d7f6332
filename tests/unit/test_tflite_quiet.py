"""LiteRT's native ``INFO:`` line on creating an interpreter stays off stderr; other native lines and Python
errors do not."""

from __future__ import annotations

import os

import pytest

from ram_core.perception import tflite


def test_native_info_lines_are_dropped_and_the_rest_kept(capfd):
    with tflite.native_info_dropped():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\nWARNING: kept\n")
    os.write(2, b"INFO: after the block is not touched\n")
    assert capfd.readouterr().err == "WARNING: kept\nINFO: after the block is not touched\n"


def test_a_python_error_inside_passes_through_and_stderr_comes_back(capfd):
    with pytest.raises(ValueError, match="bad model"), tflite.native_info_dropped():
        raise ValueError("bad model")
    os.write(2, b"back\n")
    assert capfd.readouterr().err == "back\n"


def test_creating_an_interpreter_prints_nothing(capfd):
    pytest.importorskip("ai_edge_litert")
    if tflite.mediapipe_dir() is None:
        pytest.skip("MediaPipe's model files are not installed")
    tflite.load_interpreter(tflite.POSE_DETECTION)
    assert capfd.readouterr().err == ""
