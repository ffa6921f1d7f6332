"""The birth detector: torchvision's COCO detectors loaded from official-format files, strictly and safely."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from ram_core.perception.person_detector import make_person_detector
from ram_core.perception.torchvision_detector import DETECTOR_VARIANTS, TorchvisionPersonDetector, build_detector
from ram_core.weights.loading import MissingWeightsError, WeightsFormatError

SMALL = "ssdlite320_mobilenet_v3_large"


@pytest.fixture(scope="module")
def state() -> dict:
    torch.manual_seed(0)
    return build_detector(DETECTOR_VARIANTS[SMALL]).state_dict()


def test_official_parameter_counts():
    # torchvision's published num_params for the two checkpoints
    counts = {"fasterrcnn_mobilenet_v3_large_fpn": 19386354, SMALL: 3440060}
    for name, n in counts.items():
        assert sum(p.numel() for p in build_detector(DETECTOR_VARIANTS[name]).parameters()) == n


def test_a_written_checkpoint_loads_and_detects(tmp_path: Path, state: dict):
    torch.save(state, tmp_path / "det.pth")
    det = TorchvisionPersonDetector(tmp_path / "det.pth", SMALL, min_score=0.0)
    loaded = det.model.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    boxes, scores = det.detect(np.zeros((64, 96, 3), np.uint8))
    assert boxes.shape[1:] == (4,) and boxes.shape[0] == scores.shape[0]
    assert np.all(np.diff(scores) <= 0)


def test_a_wrong_checkpoint_is_refused(tmp_path: Path, state: dict):
    bad = {k: v for k, v in state.items() if not k.startswith("head.classification_head")}
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(WeightsFormatError, match=r"missing keys: head\.classification_head"):
        TorchvisionPersonDetector(tmp_path / "bad.pth", SMALL)


def test_a_file_under_the_official_name_must_match_its_published_hash_prefix(tmp_path: Path, state: dict):
    name = DETECTOR_VARIANTS[SMALL].weights.file_name
    torch.save(state, tmp_path / name)
    with pytest.raises(WeightsFormatError, match="does not start with a79551df"):
        TorchvisionPersonDetector(tmp_path / name, SMALL)


def test_absent_weights_name_the_file(tmp_path: Path):
    with pytest.raises(
        MissingWeightsError, match=r"fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7\.pth \(74\.2 MB, sha256 fb6a3cc7"
    ):
        TorchvisionPersonDetector(tmp_path / "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth")


def test_without_weights_births_fall_back_to_the_blazepose_detector(tmp_path: Path, caplog):
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("mediapipe")
    from ram_core.perception.blazepose_detector import PersonDetector

    with caplog.at_level(logging.WARNING):
        det = make_person_detector(tmp_path)
    assert isinstance(det, PersonDetector)
    assert "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth" in caplog.text
