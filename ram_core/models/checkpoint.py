"""Loading weights: HMR2.0 checkpoints (4D-Humans release) and RAM's own safetensors files.

No arbitrary pickle ever runs: HMR2.0's Lightning ``.ckpt`` goes through the shared safe loader
(``ram_core.weights.loading``: ``torch.load(weights_only=True)``, its yacs config rebuilt as inert
dicts, any other global such as ``os.system`` in a crafted file refused before anything is unpickled)
and the same strict key and shape check that SAM2.1 and the detector use.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import safetensors.torch
import torch

from ram_core.models.config import RamConfig
from ram_core.models.ram import PARTS, RamModel, build_ram
from ram_core.weights.loading import WeightsFormatError, check_state, load_strict, read_state_dict

log = logging.getLogger(__name__)

RAM_FORMAT = "ram-weights"
RAM_FORMAT_VERSION = 1

# HMR2.0 checkpoint prefixes that hold no part of the regressor: its SMPL layer's buffers (we use
# the user's model file) and the adversarial pose discriminator used only in training.
HMR2_IGNORED_PREFIXES: tuple[str, ...] = ("smpl.", "discriminator.")
HMR2_IGNORED_KEYS: frozenset[str] = frozenset({"initialized"})


def hmr2_key_map(cfg: RamConfig) -> dict[str, str]:
    """Our parameter name -> HMR2.0 checkpoint key, for every tensor HMR2.0 provides."""
    m = {
        "backbone.patch_embed.weight": "backbone.patch_embed.proj.weight",
        "backbone.patch_embed.bias": "backbone.patch_embed.proj.bias",
        "backbone.pos_embed": "backbone.pos_embed",
        "thmr.token_embed.weight": "smpl_head.transformer.to_token_embedding.weight",
        "thmr.token_embed.bias": "smpl_head.transformer.to_token_embedding.bias",
        "thmr.token_pos": "smpl_head.transformer.pos_embedding",
        "thmr.init_pose": "smpl_head.init_body_pose",
        "thmr.init_betas": "smpl_head.init_betas",
        "thmr.init_cam": "smpl_head.init_cam",
    }
    for p in ("weight", "bias"):
        m[f"backbone.last_norm.{p}"] = f"backbone.last_norm.{p}"
    vit_block = {
        "norm1": "norm1",
        "attn.qkv": "attn.qkv",
        "attn.out": "attn.proj",
        "norm2": "norm2",
        "mlp.fc1": "mlp.fc1",
        "mlp.fc2": "mlp.fc2",
    }
    for i in range(cfg.backbone.depth):
        for ours, theirs in vit_block.items():
            for p in ("weight", "bias"):
                m[f"backbone.blocks.{i}.{ours}.{p}"] = f"backbone.blocks.{i}.{theirs}.{p}"
    head_block = {
        "self_norm.weight": "0.norm.weight",
        "self_norm.bias": "0.norm.bias",
        "self_attn.qkv.weight": "0.fn.to_qkv.weight",
        "self_attn.out.weight": "0.fn.to_out.0.weight",
        "self_attn.out.bias": "0.fn.to_out.0.bias",
        "image_norm.weight": "1.norm.weight",
        "image_norm.bias": "1.norm.bias",
        "image_attn.q.weight": "1.fn.to_q.weight",
        "image_attn.kv.weight": "1.fn.to_kv.weight",
        "image_attn.out.weight": "1.fn.to_out.0.weight",
        "image_attn.out.bias": "1.fn.to_out.0.bias",
        "mlp_norm.weight": "2.norm.weight",
        "mlp_norm.bias": "2.norm.bias",
        "mlp.fc1.weight": "2.fn.net.0.weight",
        "mlp.fc1.bias": "2.fn.net.0.bias",
        "mlp.fc2.weight": "2.fn.net.3.weight",
        "mlp.fc2.bias": "2.fn.net.3.bias",
    }
    for i in range(cfg.head.depth):
        for ours, theirs in head_block.items():
            m[f"thmr.blocks.{i}.{ours}"] = f"smpl_head.transformer.transformer.layers.{i}.{theirs}"
    for ours, theirs in (("pose_out", "decpose"), ("betas_out", "decshape"), ("cam_out", "deccam")):
        for p in ("weight", "bias"):
            m[f"thmr.{ours}.{p}"] = f"smpl_head.{theirs}.{p}"
    return m


def load_hmr2_checkpoint(model: RamModel, path: str | Path) -> RamModel:
    """Load an HMR2.0 Lightning checkpoint into the backbone and decoder, strictly.

    Every key of :func:`hmr2_key_map` must be present with our shape; every checkpoint key must be
    mapped or ignored (SMPL buffers, discriminator). The temporal parts keep their initialisation
    (zero output projections), so the model then equals HMR2.0's single-frame network.

    Raises:
        WeightsFormatError: naming the missing, unexpected or mis-shaped keys.
    """
    state = read_state_dict(path, "state_dict")
    mapping = hmr2_key_map(model.cfg)
    ours = model.state_dict()
    kept = {k: v for k, v in state.items() if k not in HMR2_IGNORED_KEYS and not k.startswith(HMR2_IGNORED_PREFIXES)}
    check_state({theirs: ours[name].shape for name, theirs in mapping.items()}, kept, path, "RamModel (HMR2.0 keys)")
    with torch.no_grad():
        for name, theirs in mapping.items():
            ours[name].copy_(state[theirs])
    model.trained = frozenset({"backbone", "thmr"})
    log.info("loaded HMR2.0 weights from %s (%d tensors)", path, len(mapping))
    return model


def sidecar_path(path: str | Path) -> Path:
    """The JSON config that sits beside a RAM weights file: ``x.safetensors`` -> ``x.json``."""
    return Path(path).with_suffix(".json")


def save_ram_checkpoint(model: RamModel, path: str | Path, trained: frozenset[str] | None = None) -> Path:
    """Write ``path`` (safetensors) and its JSON config beside it, each atomically.

    ``trained`` (default: ``model.trained``) records which parts hold learned weights.
    """
    path = Path(path)
    parts = sorted(model.trained if trained is None else trained)
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown parts {unknown}; parts are {list(PARTS)}")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": RAM_FORMAT, "version": RAM_FORMAT_VERSION, "config": model.cfg.to_dict(), "trained": parts}
    _atomic_write(path, lambda p: safetensors.torch.save_file(tensors, str(p), metadata={"format": RAM_FORMAT}))
    _atomic_write(sidecar_path(path), lambda p: p.write_text(json.dumps(meta, indent=1)))
    return path


def read_ram_config(path: str | Path) -> tuple[RamConfig, frozenset[str]]:
    """The config and trained parts recorded beside a RAM weights file."""
    side = sidecar_path(path)
    if not side.is_file():
        raise WeightsFormatError(f"{path}: its config {side.name} is missing beside it")
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as e:
        raise WeightsFormatError(f"{side}: not valid JSON ({e})") from None
    if meta.get("format") != RAM_FORMAT or meta.get("version") != RAM_FORMAT_VERSION:
        raise WeightsFormatError(
            f"{side}: format {meta.get('format')!r} version {meta.get('version')!r}, "
            f"expected {RAM_FORMAT!r} version {RAM_FORMAT_VERSION}"
        )
    try:
        cfg = RamConfig.from_dict(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise WeightsFormatError(f"{side}: bad config ({e})") from None
    return cfg, frozenset(meta.get("trained", ()))


def load_ram_weights(model: RamModel, path: str | Path) -> RamModel:
    """Load a RAM safetensors file into ``model``, strictly, after checking the config beside it."""
    cfg, trained = read_ram_config(path)
    if cfg != model.cfg:
        raise WeightsFormatError(f"{path}: its config differs from the model's:\n file  {cfg}\n model {model.cfg}")
    load_strict(model, safetensors.torch.load_file(str(path), device="cpu"), path)
    model.trained = trained
    return model


def load_ram_checkpoint(path: str | Path) -> RamModel:
    """Build the model its config describes and load the weights (CPU, eval mode)."""
    cfg, _ = read_ram_config(path)
    return load_ram_weights(build_ram(cfg), path)


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
