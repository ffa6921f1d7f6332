"""SAM2.1 architectures, and the released variants built from the weights table's SAM2.1 rows.

The architecture itself is the official hydra config shipped in the ``sam2`` package
(``sam2/configs/sam2.1/*.yaml``); ``Sam2Architecture`` names one and the overrides that size it.
File names, sizes, checksums, URLs and the config path of each release are rows of the one table,
``ram_core.weights.variants`` (kind ``sam2``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ram_core.weights.variants import VARIANTS, Variant


@dataclass(frozen=True)
class Sam2Architecture:
    """One SAM2.1 network: an official config file and hydra overrides.

    config_file: path inside the ``sam2`` package, e.g. "configs/sam2.1/sam2.1_hiera_t.yaml".
    image_size: the square side (px) frames are resized to; 1024 for the official checkpoints.
    overrides: extra hydra overrides (``++model.key=value``) that change the network's shape.
    """

    config_file: str
    image_size: int = 1024
    overrides: tuple[str, ...] = ()

    def hydra_overrides(self) -> list[str]:
        """Everything passed to ``hydra.compose``: size, SAM2Base post-processing options, extras."""
        side = self.image_size // 16
        return [
            f"++model.image_size={self.image_size}",
            f"++model.memory_attention.layer.self_attention.feat_sizes=[{side},{side}]",
            f"++model.memory_attention.layer.cross_attention.feat_sizes=[{side},{side}]",
            # the options build_sam2_video_predictor sets that belong to SAM2Base (not to its predictor)
            "++model.sam_mask_decoder_extra_args.dynamic_multimask_via_stability=true",
            "++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_delta=0.05",
            "++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_thresh=0.98",
            "++model.binarize_mask_from_pts_for_mem_enc=true",
            *self.overrides,
        ]

    @classmethod
    def tiny(cls) -> Sam2Architecture:
        """A few-block Hiera at 128 px: the real SAM2 classes, small enough for CPU unit tests."""
        return cls(
            config_file="configs/sam2.1/sam2.1_hiera_t.yaml",
            image_size=128,
            overrides=(
                "++model.image_encoder.trunk.embed_dim=32",
                "++model.image_encoder.trunk.stages=[1,1,2,1]",
                "++model.image_encoder.trunk.global_att_blocks=[3]",
                "++model.image_encoder.neck.backbone_channel_list=[256,128,64,32]",
                "++model.memory_attention.num_layers=1",
            ),
        )


@dataclass(frozen=True)
class Sam2Variant:
    """A released SAM2.1 model: its architecture and its row of the weights table."""

    name: str
    architecture: Sam2Architecture
    weights: Variant


def _short_name(row: Variant) -> str:
    """``sam2.1-base-plus`` -> ``base_plus``."""
    return row.name.removeprefix("sam2.1-").replace("-", "_")


SAM2_VARIANTS: dict[str, Sam2Variant] = {
    _short_name(row): Sam2Variant(_short_name(row), Sam2Architecture(config_file=row.config), row)
    for row in VARIANTS
    if row.kind == "sam2"
}

_ALIASES = {"t": "tiny", "s": "small", "b+": "base_plus", "base+": "base_plus", "l": "large"}


def sam2_variant(name: str) -> Sam2Variant:
    """The variant called ``name``: tiny/small/base_plus/large, t/s/b+/l, or the weights table's sam2.1-* names."""
    key = _ALIASES.get(name, name)
    key = {v.weights.name: k for k, v in SAM2_VARIANTS.items()}.get(key, key)
    if key not in SAM2_VARIANTS:
        raise KeyError(f"unknown SAM2.1 variant {name!r}; known: {', '.join(SAM2_VARIANTS)}")
    return SAM2_VARIANTS[key]
