"""SAM2.1 architectures and the official checkpoints, in one table.

The architecture itself is the official hydra config shipped in the ``sam2`` package
(``sam2/configs/sam2.1/*.yaml``); ``Sam2Architecture`` names one and the overrides that size it.
The ``ram_core/weights`` variant table had not landed when this was written, so the SAM2.1 rows live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ram_core.tracking.segfollow.checkpoint import WeightFile

_SAM2_URL = "https://dl.fbaipublicfiles.com/segment_anything_2/092824/"
_SAM2_SHA256 = "not published by Meta (verify the download against the URL's copy)"


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
    """A released SAM2.1 model: its architecture and its checkpoint file."""

    name: str
    architecture: Sam2Architecture
    weights: WeightFile


def _variant(name: str, short: str, file_stem: str, size: str) -> Sam2Variant:
    return Sam2Variant(
        name=name,
        architecture=Sam2Architecture(config_file=f"configs/sam2.1/sam2.1_hiera_{short}.yaml"),
        weights=WeightFile(
            file_name=f"{file_stem}.pt",
            size=size,
            sha256=_SAM2_SHA256,
            url=_SAM2_URL + f"{file_stem}.pt",
            licence="Apache-2.0",
        ),
    )


SAM2_VARIANTS: dict[str, Sam2Variant] = {
    v.name: v
    for v in (
        _variant("tiny", "t", "sam2.1_hiera_tiny", "about 149 MiB"),
        _variant("small", "s", "sam2.1_hiera_small", "about 176 MiB"),
        _variant("base_plus", "b+", "sam2.1_hiera_base_plus", "about 309 MiB"),
        _variant("large", "l", "sam2.1_hiera_large", "about 857 MiB"),
    )
}

_ALIASES = {"t": "tiny", "s": "small", "b+": "base_plus", "base+": "base_plus", "l": "large"}


def sam2_variant(name: str) -> Sam2Variant:
    """The variant called ``name`` (tiny/small/base_plus/large, or t/s/b+/l)."""
    key = _ALIASES.get(name, name)
    if key not in SAM2_VARIANTS:
        raise KeyError(f"unknown SAM2.1 variant {name!r}; known: {', '.join(SAM2_VARIANTS)}")
    return SAM2_VARIANTS[key]
