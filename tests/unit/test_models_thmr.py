"""T-HMR, Memory Cache, Predictor, Combiner and the Regressor at tiny size, on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ram_core.contract.skeleton import axis_angle_to_matrix
from ram_core.contract.skeleton import matrix_to_axis_angle as np_matrix_to_axis_angle
from ram_core.models import FrameInput, PersonInput, RamConfig, Regressor, build_ram
from ram_core.models.combiner import Combiner
from ram_core.models.config import CombinerConfig
from ram_core.models.geometry import (
    crop_camera_to_translation,
    crop_people,
    crop_squares,
    default_intrinsics,
    matrix_to_axis_angle,
    rot6d_to_matrix,
)
from ram_core.models.memory import importance_scores, select_memory

CFG = RamConfig.tiny()


def _model(seed: int = 0, temporal: bool = False):
    """A tiny model; ``temporal`` gives the zero-initialised temporal projections random weights."""
    torch.manual_seed(seed)
    model = build_ram(CFG)
    if temporal:
        with torch.no_grad():
            for block in model.thmr.blocks:
                for attn in (block.frames_attn, block.time_attn):
                    attn.out.weight.normal_(0, 0.5)
                    attn.out.bias.normal_(0, 0.5)
    return model


def _frames(n: int, seed: int, people: int = 2, unseen: frozenset[tuple[int, int]] = frozenset()):
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in range(n):
        ps = [
            PersonInput(10 + i, (20.0 + 60 * i + t, 30.0, 70.0 + 60 * i + t, 150.0), 0.0 if (t, i) in unseen else 1.0)
            for i in range(people)
        ]
        out.append(FrameInput(t, torch.rand(3, 180, 240, generator=g), ps))
    return out


def test_single_frame_shapes_and_valid_rotations():
    model = _model()
    with torch.inference_mode():
        p = model.single_frame(torch.randn(3, 3, *CFG.backbone.image_size))
    assert p.rotmats.shape == (3, 24, 3, 3)
    assert p.global_orient.shape == (3, 3) and p.body_pose.shape == (3, 23, 3)
    assert p.betas.shape == (3, 10) and p.cam.shape == (3, 3)
    r = p.rotmats.double()
    eye = torch.eye(3, dtype=torch.float64).expand_as(r)
    assert torch.allclose(r @ r.transpose(-1, -2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(r), torch.ones(3, 24, dtype=torch.float64), atol=1e-5)
    aa = torch.cat([p.global_orient[:, None], p.body_pose], 1).numpy()
    assert np.allclose(axis_angle_to_matrix(aa), r.numpy(), atol=1e-4)


def test_rot6d_and_axis_angle_agree_with_the_contract():
    rng = np.random.default_rng(1)
    aa = rng.normal(size=(200, 3))
    aa[:5] = [[np.pi, 0, 0], [0, np.pi - 1e-7, 0], [0, 0, 0], [1e-9, 0, 0], [0, 0, -np.pi + 1e-4]]
    mats = axis_angle_to_matrix(aa)
    six = np.concatenate([mats[..., :, 0], mats[..., :, 1]], axis=-1)  # first two columns
    back = rot6d_to_matrix(torch.tensor(six, dtype=torch.float64)).numpy()
    assert np.allclose(back, mats, atol=1e-9)
    ours = matrix_to_axis_angle(torch.tensor(mats, dtype=torch.float64)).numpy()
    assert np.allclose(axis_angle_to_matrix(ours), mats, atol=1e-6)
    assert np.allclose(ours[5:], np_matrix_to_axis_angle(mats[5:]), atol=1e-6)


def _reference_importance(q, keys):
    d = q.shape[0]

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    r = softmax(keys @ q / np.sqrt(d))
    c = np.mean([softmax(keys @ k / np.sqrt(d)) for k in keys], axis=0)
    return r + c


def test_memory_cache_scores_match_the_formula_and_pick_the_top_k():
    rng = np.random.default_rng(2)
    q = rng.normal(size=8)
    keys = rng.normal(size=(6, 8)) * 2
    valid = torch.tensor([[True] * 5 + [False]])
    got = importance_scores(torch.tensor(q)[None], torch.tensor(keys)[None], valid)[0].numpy()
    want = _reference_importance(q, keys[:5])
    assert np.allclose(got[:5], want) and np.isneginf(got[5])
    tokens = torch.tensor(rng.normal(size=(1, 6, 3, 8)))
    sel = select_memory(tokens, torch.tensor(keys)[None], valid, torch.tensor(q)[None], top_k=3)
    assert sorted(sel.indices[0].tolist()) == sorted(np.argsort(-want)[:3].tolist())
    expected_time = tokens[0, sel.indices[0]].mean(0)
    assert torch.allclose(sel.time_pooled[0], expected_time)


def test_memory_cache_prefers_frames_like_the_query_and_like_each_other():
    e = np.eye(4) * 6.0
    query = e[0]
    # Slots 1 and 3 look like the current frame; 0, 2 and 4 are outliers unlike anything else.
    keys = np.stack([e[1], e[0], e[2], e[0] * 0.9, e[3]])
    valid = torch.ones(1, 5, dtype=torch.bool)
    sel = select_memory(
        torch.zeros(1, 5, 2, 4, dtype=torch.float64), torch.tensor(keys)[None], valid, torch.tensor(query)[None], 2
    )
    assert sorted(sel.indices[0].tolist()) == [1, 3]
    sel4 = select_memory(
        torch.zeros(1, 5, 2, 4, dtype=torch.float64),
        torch.tensor(keys)[None],
        torch.tensor([[True, True, False, False, False]]),
        torch.tensor(query)[None],
        4,
    )
    assert sel4.frames_padding[0].tolist() == [False, False, True, True]
    assert sorted(sel4.indices[0, :2].tolist()) == [0, 1] and sel4.indices[0, 2:].tolist() == [-1, -1]


def test_combiner_leans_to_the_prediction_when_the_frame_is_unseen():
    torch.manual_seed(3)
    comb = Combiner(CombinerConfig.tiny(), 8)
    f, p = torch.randn(3, 8), torch.randn(3, 8)
    fused, gate = comb(f, p, torch.tensor([0.0, 1.0, 0.3]))
    assert torch.equal(fused[0], p[0]) and torch.all(gate[0] == 0)
    assert torch.all(gate[1] > 0) and torch.all(gate[1] < 1)
    assert torch.all(gate[2] <= 0.3)
    assert (fused[2] - p[2]).abs().sum() < (fused[1] - p[1]).abs().sum() * 10  # partial view stays near p
    assert not torch.allclose(fused[1], p[1])


def test_regressor_online_is_causal_and_offline_is_not():
    model = _model(4, temporal=True)
    k = default_intrinsics(240, 180, CFG.camera)
    a = _frames(8, seed=5)
    b = a[:4] + _frames(8, seed=6)[4:]
    for fuse in (False, True):
        out_a = list(Regressor(model, k, "online", fuse=fuse).run(a))
        out_b = list(Regressor(model, k, "online", fuse=fuse).run(b))
        for t in range(4):
            for pa, pb in zip(out_a[t].people, out_b[t].people, strict=True):
                assert np.array_equal(pa.body_pose, pb.body_pose) and np.array_equal(pa.transl, pb.transl)
        assert not np.allclose(out_a[5].people[0].body_pose, out_b[5].people[0].body_pose)
    off_a = list(Regressor(model, k, "offline").run(a))
    off_b = list(Regressor(model, k, "offline").run(b))
    assert [o.index for o in off_a] == list(range(8))
    assert not np.allclose(off_a[3].people[0].body_pose, off_b[3].people[0].body_pose)  # sees frame 4, 5


def test_regressor_outputs_and_predicted_frames():
    model = _model(7)
    k = default_intrinsics(240, 180, CFG.camera)
    frames = _frames(6, seed=8, unseen=frozenset({(4, 1)}))
    outs = list(Regressor(model, k, "online", fuse=True).run(frames))
    assert [len(o.people) for o in outs] == [2] * 6
    p = outs[2].people[1]
    assert p.track_id == 11 and p.frame == 2
    assert p.global_orient.shape == (3,) and p.body_pose.shape == (23, 3) and p.betas.shape == (10,)
    assert p.transl.shape == (3,) and p.transl[2] > 0 and p.box.dtype == np.float32
    assert outs[4].people[1].predicted and outs[4].people[1].gate == 0.0
    assert not outs[4].people[0].predicted and not outs[0].people[1].predicted
    assert outs[0].people[0].gate == 1.0  # no history yet: the observation alone


def test_crop_camera_matches_the_hmr2_full_image_convention():
    w, h = 640, 480
    k = default_intrinsics(w, h, RamConfig().camera)
    assert np.isclose(float(k[0, 0]), 5000 / 256 * 640)
    cam = torch.tensor([[0.8, 0.1, -0.2]])
    centre, side = torch.tensor([[400.0, 200.0]]), torch.tensor([150.0])
    t = crop_camera_to_translation(cam, centre, side, k)[0].numpy()
    f = 5000 / 256 * 640
    bs = 150 * 0.8
    want = [2 * (400 - w / 2) / bs + 0.1, 2 * (200 - h / 2) / bs - 0.2, 2 * f / bs]  # 4D-Humans' cam_crop_to_full
    assert np.allclose(t, want, rtol=1e-5)
    # A body centred in the crop (tx = ty = 0) projects onto the crop centre.
    t0 = crop_camera_to_translation(torch.tensor([[0.8, 0.0, 0.0]]), centre, side, k)[0].numpy()
    uv = (k.numpy() @ t0)[:2] / t0[2]
    assert np.allclose(uv, [400, 200], atol=1e-3)


def test_a_negative_crop_scale_keeps_its_sign_as_in_4d_humans():
    """4D-Humans divides by b s + 1e-9, not |s|: s < 0 puts the body behind the camera (tz < 0)."""
    w, h = 640, 480
    k = default_intrinsics(w, h, RamConfig().camera)
    f = 5000 / 256 * 640
    centre, side = torch.tensor([[400.0, 200.0]]), torch.tensor([150.0])
    t = crop_camera_to_translation(torch.tensor([[-0.8, 0.1, -0.2]]), centre, side, k)[0].numpy()
    bs = 150 * -0.8 + 1e-9
    want = [2 * (400 - w / 2) / bs + 0.1, 2 * (200 - h / 2) / bs - 0.2, 2 * f / bs]
    assert t[2] < 0 and np.allclose(t, want, rtol=1e-5)
    t0 = crop_camera_to_translation(torch.tensor([[0.0, 0.0, 0.0]]), centre, side, k)[0]
    assert torch.isfinite(t0).all() and t0[2] > 0  # s = 0: far away (2 f / 1e-9), not a division by zero


def test_crops_cut_the_right_region():
    cam = CFG.camera
    frame = torch.zeros(3, 100, 200)
    frame[:, 40:60, 120:130] = 1.0  # a bright patch around (125, 50)
    centres, sides = crop_squares(torch.tensor([[115.0, 20.0, 135.0, 80.0]]), cam)
    assert torch.allclose(centres, torch.tensor([[125.0, 50.0]])) and torch.allclose(sides, torch.tensor([60.0]))
    crops = crop_people(frame, centres, sides, (64, 48), cam)
    raw = crops[0] * torch.tensor(cam.std)[:, None, None] + torch.tensor(cam.mean)[:, None, None]
    assert raw[:, 32, 24].min() > 0.99  # crop centre is the patch
    assert raw[:, 2, 2].max() < 0.01  # corner is outside it
    rows = (raw[0] > 0.5).any(dim=1).nonzero().flatten()
    assert abs(len(rows) - 64 * 20 / 60) <= 2  # 20 px of a 60 px square over 64 rows
