"""The one table of weight files the ``ram`` backend uses: what, where from, under which licence.

Sizes and checksums are filled in only where the publisher states them; ``None`` means "not
published" and ``ram-core weights verify`` then prints the checksum it computes instead of checking.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One weight file.

    Attributes:
        name: the name users type (``ram-core weights path hmr2``).
        kind: ``hmr2`` | ``sam2`` | ``smpl`` | ``ram``: which loader reads it.
        config: the architecture it fits (a ``RamConfig`` constructor or a sam2 config path).
        file_name: its name in the weights folder.
        sha256: hex digest, or None where the publisher gives none.
        size: bytes, or None where the publisher gives none.
        licence: the licence the publisher states.
        url: where ``ram-core weights fetch`` downloads it from; None: manual download only.
        archive_member: when ``url`` is a .tar.gz, the member that is the file.
        source: where a person gets it, in words.
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


_SAM2_BASE = "https://dl.fbaipublicfiles.com/segment_anything_2/092824"
_SAM2_SOURCE = "Meta's official SAM 2.1 release (github.com/facebookresearch/sam2, checkpoints/download_ckpts.sh)"

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
        )
        for short, long, cfg in (
            ("tiny", "tiny", "t"),
            ("small", "small", "s"),
            ("base-plus", "base_plus", "b+"),
            ("large", "large", "l"),
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
        source="no public RAM weights exist; train the temporal parts with `ram-core train` (HMR2.0 alone works)",
    ),
)


def variant(name: str) -> Variant:
    """The variant called ``name``; ``KeyError`` lists the known names."""
    for v in VARIANTS:
        if v.name == name:
            return v
    raise KeyError(f"unknown weights {name!r}; known: {', '.join(v.name for v in VARIANTS)}")
