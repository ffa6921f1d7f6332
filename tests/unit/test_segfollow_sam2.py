"""SegFollow on the real SAM2.1 classes (a few-block Hiera at 128 px, random or test-made weights), on CPU."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sam2")

from ram_core.tracking.association import with_association
from ram_core.tracking.segfollow import (
    MissingWeightsError,
    Sam2Architecture,
    SegFollowConfig,
    WeightsFormatError,
    build_sam2,
    build_segfollow,
    load_sam2_checkpoint,
    sam2_variant,
)
from ram_core.tracking.selector import UpdateConfig

H, W = 90, 160
BOXES = np.array([[10.0, 10.0, 50.0, 80.0], [90.0, 5.0, 140.0, 85.0], [60.0, 20.0, 85.0, 70.0]])


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (H, W, 3), dtype=np.uint8) for _ in range(4)]


def tracker_with(tau: float):
    torch.manual_seed(0)
    return build_segfollow(
        Sam2Architecture.tiny(),
        config=with_association(SegFollowConfig(), update=UpdateConfig(tau=tau), min_motion=0.0),
    )


def test_streaming_runs_the_encoder_once_and_decodes_everyone_in_one_batch(frames):
    tracker = tracker_with(tau=-1.0)
    model = tracker.engine.model
    calls = {"encoder": 0, "heads": []}
    encode, heads = model.forward_image, model._forward_sam_heads

    def counting_encode(*a, **k):
        calls["encoder"] += 1
        return encode(*a, **k)

    def counting_heads(backbone_features, **k):
        calls["heads"].append(backbone_features.shape[0])
        return heads(backbone_features, **k)

    model.forward_image, model._forward_sam_heads = counting_encode, counting_heads
    first = tracker.step(0, frames[0], (BOXES, np.full(3, 0.9)))
    assert first.born == (1, 2, 3)
    shapes = {k: v.features.shape for k, v in tracker.memories.items()}
    for f in range(1, 4):
        out = tracker.step(f, frames[f])
        assert [p.track_id for p in out.people] == [1, 2, 3]
        for p in out.people:
            assert p.mask.shape == (H, W) and p.mask.dtype == bool
            assert p.box.shape == (4,) and 0.0 <= p.confidence <= 1.0
    assert calls["encoder"] == 4
    assert calls["heads"] == [3, 3, 3, 3], "one prompt batch, then one decode batch per frame for all people"
    assert (
        {k: v.features.shape for k, v in tracker.memories.items()} == shapes == dict.fromkeys((1, 2, 3), (1, 64, 8, 8))
    )


def test_sam2_ema_memory_ignores_unreliable_frames_and_learns_from_reliable_ones(frames):
    refusing = tracker_with(tau=2.0)  # no confidence exceeds 2: every frame is unreliable
    refusing.step(0, frames[0], (BOXES[:2], np.full(2, 0.9)))
    before = {k: (m.features.clone(), m.pointer.clone()) for k, m in refusing.memories.items()}
    for f in range(1, 4):
        out = refusing.step(f, frames[f])
        assert not any(p.observed for p in out.people)
    for k, m in refusing.memories.items():
        assert torch.equal(m.features, before[k][0]) and torch.equal(m.pointer, before[k][1])

    learning = tracker_with(tau=-1.0)
    learning.step(0, frames[0], (BOXES[:2], np.full(2, 0.9)))
    prompt = {k: m.prompt_features.clone() for k, m in learning.memories.items()}
    learning.step(1, frames[1])
    for k, m in learning.memories.items():
        assert not torch.equal(m.features, before[k][0])
        assert torch.equal(m.prompt_features, prompt[k]), "the prompt frame's memory is kept as it was"


def test_chosen_candidate_pointer_matches_sam2_for_its_own_best_candidate(frames):
    tracker = tracker_with(tau=-1.0)
    tracker.step(0, frames[0], (BOXES, np.full(3, 0.9)))
    engine = tracker.engine
    with torch.inference_mode():
        frame = engine.encode(frames[1])
        memories = list(tracker.memories.values())
        _, _, outs = engine._decode(frame, 3, engine._view(memories), None, multimask=True)
        best = outs[2].argmax(dim=1)
        mine = engine._pointer(engine._tokens, best, outs[6])
    torch.testing.assert_close(mine, outs[5])


@pytest.fixture(scope="module")
def tiny_state() -> dict:
    torch.manual_seed(1)
    return build_sam2(Sam2Architecture.tiny()).state_dict()


def test_a_written_checkpoint_loads_through_the_real_loader(tmp_path: Path, tiny_state: dict):
    path = tmp_path / "tiny.pt"
    torch.save({"model": tiny_state}, path)
    tracker = build_segfollow(Sam2Architecture.tiny(), checkpoint=path)
    loaded = tracker.engine.model.state_dict()
    assert loaded.keys() == tiny_state.keys()
    assert all(torch.equal(loaded[k], tiny_state[k]) for k in tiny_state)


def test_a_checkpoint_missing_a_key_is_refused_naming_it(tmp_path: Path, tiny_state: dict):
    state = dict(tiny_state)
    del state["sam_mask_decoder.iou_token.weight"]
    state["extra.weight"] = torch.zeros(1)
    torch.save({"model": state}, tmp_path / "bad.pt")
    with pytest.raises(
        WeightsFormatError, match=r"missing keys: sam_mask_decoder\.iou_token\.weight.*unexpected keys: extra\.weight"
    ):
        build_segfollow(Sam2Architecture.tiny(), checkpoint=tmp_path / "bad.pt")


def test_a_checkpoint_of_the_wrong_shape_is_refused_naming_the_shapes(tmp_path: Path, tiny_state: dict):
    state = dict(tiny_state)
    state["no_mem_embed"] = torch.zeros(1, 1, 128)
    torch.save({"model": state}, tmp_path / "wrong.pt")
    model = build_sam2(Sam2Architecture.tiny())
    with pytest.raises(WeightsFormatError, match=r"no_mem_embed \(1, 1, 128\) != \(1, 1, 256\)"):
        load_sam2_checkpoint(model, tmp_path / "wrong.pt")


class _Payload:
    """Unpickling this would create a file: the loader must never get that far."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_with_a_malicious_reduce_is_refused_before_running(tmp_path: Path):
    marker = tmp_path / "pwned"
    with (tmp_path / "evil.pt").open("wb") as f:
        pickle.dump({"model": _Payload(marker)}, f)
    torch.save({"model": {"x": _Payload(marker)}}, tmp_path / "evil_zip.pt")
    model = build_sam2(Sam2Architecture.tiny())
    for name in ("evil.pt", "evil_zip.pt"):
        with pytest.raises(WeightsFormatError, match="refused to unpickle"):
            load_sam2_checkpoint(model, tmp_path / name)
    assert not marker.exists()


def test_an_absent_official_checkpoint_names_file_size_checksum_and_url(tmp_path: Path):
    with pytest.raises(MissingWeightsError) as err:
        build_segfollow("tiny", checkpoint=tmp_path)
    text = str(err.value)
    for part in (
        "sam2.1_hiera_tiny.pt",
        "149 MiB",
        "sha256",
        "https://dl.fbaipublicfiles.com/segment_anything_2/092824/",
    ):
        assert part in text
    assert sam2_variant("b+").weights.file_name == "sam2.1_hiera_base_plus.pt"
