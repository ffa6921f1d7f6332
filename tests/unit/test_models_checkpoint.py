"""Loading weights: an HMR2.0-format Lightning checkpoint, RAM safetensors, and refusing pickles."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ram_core.models import (
    FrameInput,
    PersonInput,
    RamConfig,
    Regressor,
    build_ram,
    load_hmr2_checkpoint,
    load_ram_checkpoint,
    load_ram_weights,
    safe_torch_load,
    save_ram_checkpoint,
)
from ram_core.models.checkpoint import hmr2_key_map, sidecar_path
from ram_core.models.geometry import crop_people, crop_squares, default_intrinsics
from ram_core.weights.loading import WeightsFormatError

CFG = RamConfig.tiny()


@pytest.fixture
def fake_yacs(monkeypatch):
    """A stand-in ``yacs.config.CfgNode`` so the test checkpoint pickles one, as HMR2.0's does."""
    module = types.ModuleType("yacs.config")

    class CfgNode(dict):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.__dict__["__immutable__"] = False

    CfgNode.__module__ = "yacs.config"
    CfgNode.__qualname__ = "CfgNode"
    module.CfgNode = CfgNode
    monkeypatch.setitem(sys.modules, "yacs", types.ModuleType("yacs"))
    monkeypatch.setitem(sys.modules, "yacs.config", module)
    return CfgNode


def _hmr2_like_checkpoint(reference, path, cfg_node_cls, drop: str | None = None, extra: str | None = None):
    """Write a Lightning-like dict with HMR2.0's key names holding ``reference``'s weights."""
    ours = reference.state_dict()
    state = OrderedDict((theirs, ours[name].clone()) for name, theirs in hmr2_key_map(reference.cfg).items())
    state["smpl.shapedirs"] = torch.zeros(5, 3, 10)
    state["smpl.J_regressor_extra"] = torch.zeros(9, 5)
    state["discriminator.D_conv1.weight"] = torch.zeros(32, 9, 1, 1)
    state["initialized"] = torch.tensor(True)
    if drop:
        del state[drop]
    if extra:
        state[extra] = torch.zeros(2)
    cfg = cfg_node_cls(
        MODEL=cfg_node_cls(IMAGE_SIZE=256, BACKBONE=cfg_node_cls(TYPE="vit")), EXTRA={"FOCAL_LENGTH": 5000}
    )
    blob = {
        "epoch": 35,
        "global_step": 1000000,
        "pytorch-lightning_version": "2.0.0",
        "state_dict": state,
        "hyper_parameters": {"cfg": cfg},
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-5, "params": [0, 1]}]}],
        "lr_schedulers": [],
    }
    torch.save(blob, path)
    return path


def _frames(n: int):
    g = torch.Generator().manual_seed(11)
    return [
        FrameInput(
            t,
            torch.rand(3, 120, 160, generator=g),
            [PersonInput(1, (10.0 + 2 * t, 10.0, 60.0, 110.0)), PersonInput(2, (80.0, 20.0, 130.0, 115.0 - t))],
        )
        for t in range(n)
    ]


def test_hmr2_checkpoint_loads_and_the_full_model_equals_the_single_frame_path(tmp_path, fake_yacs):
    torch.manual_seed(0)
    reference = build_ram(CFG)
    with torch.no_grad():  # make the "trained" HMR2.0 weights differ from any fresh initialisation
        for p in reference.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        reference.thmr.init_cam.copy_(torch.tensor([[0.7, 0.05, -0.02]]))
    path = _hmr2_like_checkpoint(reference, tmp_path / "epoch=35-step=1000000.ckpt", fake_yacs)

    blob = safe_torch_load(path)
    assert blob["hyper_parameters"]["cfg"]["MODEL"]["IMAGE_SIZE"] == 256  # the config came back as plain data
    torch.manual_seed(1)
    model = load_hmr2_checkpoint(build_ram(CFG), path)
    assert model.trained == {"backbone", "thmr"}
    frames = _frames(6)
    regressor = Regressor(model, default_intrinsics(160, 120, CFG.camera), "online")
    assert regressor.fuse is False  # untrained Predictor/Combiner are not used
    outputs = list(regressor.run(frames))
    assert len(regressor.tracks[1].memory) == CFG.memory.window - 1  # the memory was really used
    with torch.inference_mode():
        for frame, out in zip(frames, outputs, strict=True):
            boxes = torch.tensor([p.box for p in frame.people])
            centres, sides = crop_squares(boxes, CFG.camera)
            crops = crop_people(frame.image, centres, sides, CFG.backbone.image_size, CFG.camera)
            single = reference.single_frame(crops)
            got = np.stack([p.body_pose for p in out.people])
            assert np.array_equal(got, single.body_pose.numpy())
            assert np.array_equal(np.stack([p.betas for p in out.people]), single.betas.numpy())
            assert np.array_equal(np.stack([p.cam for p in out.people]), single.cam.numpy())


def test_hmr2_checkpoint_key_problems_are_named(tmp_path, fake_yacs):
    reference = build_ram(CFG)
    missing = "smpl_head.transformer.transformer.layers.1.1.fn.to_kv.weight"
    path = _hmr2_like_checkpoint(reference, tmp_path / "a.ckpt", fake_yacs, drop=missing)
    with pytest.raises(WeightsFormatError, match=r"missing keys: .*layers\.1\.1\.fn\.to_kv\.weight"):
        load_hmr2_checkpoint(build_ram(CFG), path)
    path = _hmr2_like_checkpoint(reference, tmp_path / "b.ckpt", fake_yacs, extra="smpl_head.refiner.weight")
    with pytest.raises(WeightsFormatError, match=r"unexpected keys: smpl_head\.refiner\.weight"):
        load_hmr2_checkpoint(build_ram(CFG), path)
    with pytest.raises(WeightsFormatError, match="shape mismatches: backbone.pos_embed"):
        taller = dataclasses.replace(CFG.backbone, image_size=(80, 48))
        load_hmr2_checkpoint(build_ram(dataclasses.replace(CFG, backbone=taller)), path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"backbone.pos_embed": torch.zeros(1)}, "payload": _Exploit(marker)}, path)
    with pytest.raises(WeightsFormatError, match="refusing to unpickle globals .*system"):
        load_hmr2_checkpoint(build_ram(CFG), path)
    assert not marker.exists()
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsFormatError, match="not a readable torch checkpoint"):
        load_hmr2_checkpoint(build_ram(CFG), tmp_path / "junk.ckpt")


def test_ram_safetensors_round_trip_is_strict(tmp_path):
    torch.manual_seed(2)
    model = build_ram(CFG)
    with torch.no_grad():
        model.thmr.blocks[0].frames_attn.out.weight.normal_()
    path = save_ram_checkpoint(model, tmp_path / "ram-tiny.safetensors", trained=frozenset({"backbone", "thmr"}))
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["format"] == "ram-weights" and meta["trained"] == ["backbone", "thmr"]
    loaded = load_ram_checkpoint(path)
    assert loaded.cfg == CFG and loaded.trained == {"backbone", "thmr"}
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)

    other = dataclasses.replace(CFG, memory=dataclasses.replace(CFG.memory, window=7))
    with pytest.raises(WeightsFormatError, match="config differs"):
        load_ram_weights(build_ram(other), path)

    import safetensors.torch

    state = safetensors.torch.load_file(str(path))
    del state["combiner.gate.fc2.bias"]
    safetensors.torch.save_file(state, str(path))
    with pytest.raises(WeightsFormatError, match=r"missing keys: combiner\.gate\.fc2\.bias"):
        load_ram_checkpoint(path)
    sidecar_path(path).unlink()
    with pytest.raises(WeightsFormatError, match="ram-tiny.json is missing"):
        load_ram_checkpoint(path)
