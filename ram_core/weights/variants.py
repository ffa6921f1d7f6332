"""The one table of weight files the ``ram`` backend uses: what, where from, under which licence.

Sizes and checksums are filled in only where the publisher states them; ``None`` means "not
published" and ``ram-core weights verify`` then prints the checksum it computes and calls the file "unverified".
Where only a rounded size (``approx_size``) or the first hex digits of the checksum (``sha256_prefix``,
as torchvision puts in its file names) are published, those are recorded and checked instead.
Every loader (SAM2.1, the birth detector, HMR2.0, RAM) takes its file facts from this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One weight file.

    Attributes:
        name: the name users type (``ram-core weights path hmr2``).
        kind: ``hmr2`` | ``sam2`` | ``detector`` | ``smpl`` | ``ram``: which loader reads it.
        config: the architecture it fits (a ``RamConfig`` constructor, the sam2 package's hydra config
            path, or the torchvision builder's name).
        file_name: its name in the weights folder.
        sha256: hex digest, or None where the publisher gives none.
        size: bytes, or None where the publisher gives none.
        licence: the licence the publisher states.
        url: where ``ram-core weights fetch`` downloads it from; None: manual download only.
        archive_member: when ``url`` is a .tar.gz, the member that is the file.
        source: where a person gets it, in words; with no ``url``, an instruction that reads on its own.
        approx_size: the size as published in words ("about 149 MiB") when no exact byte count is.
        sha256_prefix: the leading hex digits of the sha256 when only those are published.
    """

    name: str
    kind: str
    config: str
    file_name: str
    sha256: str | None
    size: int | None
    licence: str
    url: str | None
    archive_member: str | None
    source: str
    approx_size: str | None = None
    sha256_prefix: str | None = None


_SAM2_BASE = "https://dl.fbaipublicfiles.com/segment_anything_2/092824"
_SAM2_SOURCE = "Meta's official SAM 2.1 release (github.com/facebookresearch/sam2, checkpoints/download_ckpts.sh)"
_TV_BASE = "https://download.pytorch.org/models"
_TV_SOURCE = "torchvision's model table (pytorch.org/vision/stable/models.html#object-detection)"

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="hmr2",
        kind="hmr2",
        config="RamConfig()",
        file_name="hmr2_epoch35.ckpt",
        sha256=None,
        size=None,
        licence="MIT (4D-Humans)",
        url="https://people.eecs.berkeley.edu/~jathushan/projects/4dhumans/hmr2_data.tar.gz",
        archive_member="logs/train/multiruns/hmr2/0/checkpoints/epoch=35-step=1000000.ckpt",
        source="HMR2.0b from the 4D-Humans release (github.com/shubham-goel/4D-Humans, hmr2/models/__init__.py)",
    ),
    *(
        Variant(
            name=f"sam2.1-{short}",
            kind="sam2",
            config=f"configs/sam2.1/sam2.1_hiera_{cfg}.yaml",
            file_name=f"sam2.1_hiera_{long}.pt",
            sha256=None,
            size=None,
            licence="Apache-2.0",
            url=f"{_SAM2_BASE}/sam2.1_hiera_{long}.pt",
            archive_member=None,
            source=_SAM2_SOURCE,
            approx_size=approx,
        )
        for short, long, cfg, approx in (
            ("tiny", "tiny", "t", "about 149 MiB"),
            ("small", "small", "s", "about 176 MiB"),
            ("base-plus", "base_plus", "b+", "about 309 MiB"),
            ("large", "large", "l", "about 857 MiB"),
        )
    ),
    # COCO person detectors for SegFollow's births (box mAP 32.8 and 21.3 per torchvision's table).
    *(
        Variant(
            name=builder,
            kind="detector",
            config=builder,
            file_name=file_name,
            sha256=None,
            size=None,
            licence="BSD-3-Clause (torchvision)",
            url=f"{_TV_BASE}/{file_name}",
            archive_member=None,
            source=_TV_SOURCE,
            approx_size=approx,
            sha256_prefix=file_name.rsplit("-", 1)[-1].split(".")[0],
        )
        for builder, file_name, approx in (
            ("fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth", "74.2 MB"),
            ("ssdlite320_mobilenet_v3_large", "ssdlite320_mobilenet_v3_large_coco-a79551df.pth", "13.4 MB"),
        )
    ),
    Variant(
        name="smpl",
        kind="smpl",
        config="SMPL 24 joints, 10 betas",
        file_name="smpl_neutral.npz",
        sha256=None,
        size=None,
        licence="SMPL Model License (non-commercial; register to download)",
        url=None,
        archive_member=None,
        source=(
            "register at https://smpl.is.tue.mpg.de, download 'SMPL for Python' (version 1.1.0), then "
            "`ram-core smpl convert basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl smpl_neutral.npz`"
        ),
    ),
    Variant(
        name="ram",
        kind="ram",
        config="RamConfig() (config recorded in ram.json beside the file)",
        file_name="ram.safetensors",
        sha256=None,
        size=None,
        licence="yours (trained with `ram-core train`)",
        url=None,
        archive_member=None,
        source="no public RAM weights exist; train them with `ram-core train` (HMR2.0 alone works without them)",
    ),
)


def variant(name: str) -> Variant:
    """The variant called ``name``; ``KeyError`` lists the known names."""
    for v in VARIANTS:
        if v.name == name:
            return v
    raise KeyError(f"unknown weights {name!r}; known: {', '.join(v.name for v in VARIANTS)}")
