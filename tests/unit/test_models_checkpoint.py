"""Loading weights: an HMR2.0-format Lightning checkpoint, RAM safetensors, and refusing pickles."""

from __future__ import annotations

import collections
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


def _yacs_hparams(cfg_node_cls):
    cfg = cfg_node_cls(
        MODEL=cfg_node_cls(IMAGE_SIZE=256, BACKBONE=cfg_node_cls(TYPE="vit")), EXTRA={"FOCAL_LENGTH": 5000}
    )
    return {"cfg": cfg}


def _lightning_extras(step_tensors):
    """What Lightning 1.8-2.x writes beside ``state_dict``: loops, callbacks, AdamW state, AMP scaler."""
    return {
        "epoch": 35,
        "global_step": 1000000,
        "pytorch-lightning_version": "1.8.1",
        "loops": {
            "fit_loop": {
                "state_dict": {},
                "epoch_progress": {"total": {"ready": 36, "started": 36, "processed": 35, "completed": 35}},
                "epoch_loop.batch_progress": {
                    "total": {"ready": 1000000, "completed": 1000000},
                    "is_last_batch": False,
                },
            }
        },
        "callbacks": {
            "ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 10000}": {
                "monitor": None,
                "best_model_score": None,
                "best_model_path": "logs/train/multiruns/hmr2/0/checkpoints/epoch=35-step=1000000.ckpt",
                "kth_value": torch.tensor(float("inf")),
                "best_k_models": {},
                "dirpath": "logs/train/multiruns/hmr2/0/checkpoints",
            }
        },
        "optimizer_states": [
            {
                "state": {i: {"step": torch.tensor(1e6), "exp_avg": t, "exp_avg_sq": t * t} for i, t in step_tensors},
                "param_groups": [
                    {
                        "lr": 1e-5,
                        "betas": (0.9, 0.999),
                        "eps": 1e-8,
                        "weight_decay": 1e-4,
                        "amsgrad": False,
                        "foreach": None,
                        "maximize": False,
                        "capturable": False,
                        "fused": None,
                        "params": [0, 1],
                    }
                ],
            }
        ],
        "lr_schedulers": [],
        "native_amp_scaling_state": {"scale": 65536.0, "growth_factor": 2.0, "_growth_tracker": 17},
        "hparams_name": "kwargs",
    }


def _hmr2_like_checkpoint(reference, path, hparams, drop: str | None = None, extra: str | None = None, payload=None):
    """Write a Lightning checkpoint with HMR2.0's key names holding ``reference``'s weights.

    ``hparams`` is the ``hyper_parameters`` entry; ``payload`` (any object) goes into the loops' state.
    """
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
    blob = {"state_dict": state, "hyper_parameters": hparams, **_lightning_extras(list(enumerate(state.values()))[:2])}
    if payload is not None:
        blob["loops"]["fit_loop"]["state_dict"]["payload"] = payload
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
    path = _hmr2_like_checkpoint(reference, tmp_path / "epoch=35-step=1000000.ckpt", _yacs_hparams(fake_yacs))

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
    path = _hmr2_like_checkpoint(reference, tmp_path / "a.ckpt", _yacs_hparams(fake_yacs), drop=missing)
    with pytest.raises(WeightsFormatError, match=r"missing keys: .*layers\.1\.1\.fn\.to_kv\.weight"):
        load_hmr2_checkpoint(build_ram(CFG), path)
    hparams = _yacs_hparams(fake_yacs)
    path = _hmr2_like_checkpoint(reference, tmp_path / "b.ckpt", hparams, extra="smpl_head.refiner.weight")
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


def _hydra_config():
    """A hydra-style ``DictConfig`` made with the real omegaconf: nested lists, interpolations, typed nodes.

    A cached resolver is read once, so the root's ``ContainerMetadata.resolver_cache`` (a ``defaultdict``)
    holds items when pickled, as in a config a run has used.
    """
    omegaconf = pytest.importorskip("omegaconf")
    from omegaconf.nodes import FloatNode, IntegerNode

    cfg = omegaconf.OmegaConf.create(
        {
            "paths": {"root": "/data/4dhumans", "logs": "${paths.root}/logs"},
            "MODEL": {
                "IMAGE_SIZE": 256,
                "BBOX_SHAPE": [192, 256],
                "IMAGE_MEAN": [0.485, 0.456, 0.406],
                "BACKBONE": {"TYPE": "vit", "PRETRAINED_WEIGHTS": "${paths.root}/vitpose_backbone.pth"},
                "SMPL_HEAD": {"TRANSFORMER_DECODER": {"depth": 6, "heads": 8, "context_dim": 1280}},
            },
            "DATASETS": {"TRAIN": [{"NAME": "H36M-TRAIN", "WEIGHT": 0.3}, {"NAME": "COCO-TRAIN-2014", "WEIGHT": 0.7}]},
            "EXTRA": {"FOCAL_LENGTH": 5000, "NUM_LOG_IMAGES": 4, "DOUBLE": "${ram_test_twice:${EXTRA.FOCAL_LENGTH}}"},
            "trainer": {"devices": 8, "precision": 16, "limit": None, "resume": "???"},
        }
    )
    cfg.MODEL.BACKBONE.depth = IntegerNode(32)
    cfg.LOSS_WEIGHTS = {"KEYPOINTS_3D": FloatNode(0.05), "ADVERSARIAL": 0.0005}
    omegaconf.OmegaConf.register_new_resolver("ram_test_twice", lambda x: 2 * int(x), use_cache=True)
    try:
        assert cfg.EXTRA.DOUBLE == 10000
    finally:
        omegaconf.OmegaConf.clear_resolver("ram_test_twice")
    assert cfg._metadata.resolver_cache, "the resolver cache should hold an item"
    return omegaconf, cfg


def test_a_hydra_trained_lightning_checkpoint_loads_strictly_and_its_config_is_plain_data(tmp_path):
    omegaconf, cfg = _hydra_config()
    torch.manual_seed(3)
    reference = build_ram(CFG)
    with torch.no_grad():
        for p in reference.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    plain = omegaconf.OmegaConf.to_container(cfg, resolve=False)
    hparams = {"cfg": cfg, "init_renderer": False, "history": collections.defaultdict(list, {"val": [0.5, 0.4]})}
    path = _hmr2_like_checkpoint(reference, tmp_path / "epoch=35-step=1000000.ckpt", hparams)
    named = set(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    assert {"omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.nodes.AnyNode"} <= named
    assert {"omegaconf.base.ContainerMetadata", "collections.defaultdict", "typing.Any", "builtins.dict"} <= named

    blob = safe_torch_load(path)
    got = blob["hyper_parameters"]
    assert got["cfg"] == plain  # plain dicts and lists; interpolations as written, "???" kept
    assert type(got["cfg"]) is dict and type(got["cfg"]["DATASETS"]["TRAIN"]) is list
    assert got["cfg"]["MODEL"]["BACKBONE"]["depth"] == 32 and got["cfg"]["paths"]["logs"] == "${paths.root}/logs"
    assert got["history"] == {"val": [0.5, 0.4]} and got["init_renderer"] is False
    adam = blob["optimizer_states"][0]
    assert adam["param_groups"][0]["betas"] == (0.9, 0.999)
    assert torch.equal(adam["state"][1]["exp_avg"], list(blob["state_dict"].values())[1])
    torch.manual_seed(4)
    model = load_hmr2_checkpoint(build_ram(CFG), path)
    for name, theirs in hmr2_key_map(CFG).items():
        assert torch.equal(model.state_dict()[name], reference.state_dict()[name]), theirs

    # Lightning's other layout: the module's hparams *are* the DictConfig, and the class is recorded too.
    torch.save({"state_dict": blob["state_dict"], "hyper_parameters": cfg, "hparams_type": type(cfg)}, path)
    blob = safe_torch_load(path)
    assert blob["hyper_parameters"] == plain and blob["hparams_type"] == "omegaconf.dictconfig.DictConfig"


class _Call:
    """Pickles as a call of ``func(*args)``: what a crafted checkpoint does to run code on load."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def test_code_anywhere_in_a_hydra_checkpoint_is_refused_and_never_runs(tmp_path):
    _, cfg = _hydra_config()
    reference = build_ram(CFG)
    marker = tmp_path / "pwned"
    calls = {
        "system": _Call(os.system, f"touch {marker}"),
        "eval": _Call(eval, f"open({str(marker)!r}, 'w')"),
        "getattr": _Call(getattr, "text", "upper"),
    }
    for name, call in calls.items():
        for where in ("loops", "hyper_parameters"):
            hparams = {"cfg": cfg, "payload": call} if where == "hyper_parameters" else {"cfg": cfg}
            path = _hmr2_like_checkpoint(
                reference, tmp_path / f"{name}-{where}.ckpt", hparams, payload=call if where == "loops" else None
            )
            with pytest.raises(WeightsFormatError, match=f"refusing to unpickle globals .*{name}"):
                load_hmr2_checkpoint(build_ram(CFG), path)
            assert not marker.exists()


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
