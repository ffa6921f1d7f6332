"""Image + SMPL annotation shards: our tar layout and 4D-Humans' webdataset tars, read with ``tarfile``.

A shard is a plain tar whose members are grouped by key (the name up to the first dot). Two
layouts are read (documented in ``docs/training.md``):

**Ours** (``KEY.jpg`` or ``KEY.png`` + ``KEY.npz``, arrays read with ``allow_pickle=False``; a
leading person axis ``P``):

- ``box`` ``(P, 4)``: x1, y1, x2, y2 in image pixels.
- ``kp2d`` ``(P, 24, 3)``: SMPL joints in image pixels + confidence.
- ``kp3d`` ``(P, 24, 4)`` optional: SMPL joints, camera frame, metres + confidence.
- ``global_orient`` ``(P, 3)``, ``body_pose`` ``(P, 23, 3)`` optional: axis-angle (body -> camera);
  ``has_pose`` ``(P,)``.
- ``betas`` ``(P, 10)`` optional, ``has_betas`` ``(P,)``.

**4D-Humans** (``KEY.jpg`` + ``KEY.data.pyd``, as in the HMR2.0 training tars): ``data.pyd`` is a
pickled list with one dict per person (``keypoints_2d`` ``(44, 3)`` pixels, ``keypoints_3d``
``(44, 4)``, ``center`` ``(2,)``, ``scale`` ``(2,)`` with box side ``200 * scale``, ``body_pose``
``(72,)`` axis-angle incl. the root, ``betas``, ``has_body_pose``, ``has_betas``). It is read by a
restricted unpickler that rebuilds only numpy arrays, dtypes and plain containers and refuses any
other global. Its 44 keypoints (25 OpenPose + 19 extra) are mapped to the SMPL joints they
stand for (:data:`HMR2_TO_SMPL`); SMPL joints without a counterpart get confidence 0.

Each (image, person) is one sample, cropped by the inference crop (:func:`ram_core.models.geometry.crop_people`:
HMR2.0's square about the box, anti-alias blur, the backbone's central columns) into the layout of
:mod:`ram_core.train.data.samples`.
"""

from __future__ import annotations

import glob
import io
import logging
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ram_core.contract.skeleton import JOINT_INDEX, NUM_BETAS, NUM_JOINTS, axis_angle_to_matrix
from ram_core.models.config import CameraConfig
from ram_core.models.geometry import crop_people
from ram_core.train.data.samples import empty_frame, stack_frames, visible_in_crop
from ram_core.train.data.synthetic import pan_zoom_path

log = logging.getLogger(__name__)

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png")

# SMPL joint -> (HMR2.0 keypoint, OpenPose fallback) among its 44 = 25 OpenPose + 19 extra (25 + i).
HMR2_TO_SMPL: dict[str, tuple[int, int | None]] = {
    "pelvis": (25 + 14, 8),
    "left_hip": (25 + 3, 12),
    "right_hip": (25 + 2, 9),
    "left_knee": (25 + 4, 13),
    "right_knee": (25 + 1, 10),
    "left_ankle": (25 + 5, 14),
    "right_ankle": (25 + 0, 11),
    "head": (25 + 18, None),
    "left_shoulder": (25 + 9, 5),
    "right_shoulder": (25 + 8, 2),
    "left_elbow": (25 + 10, 6),
    "right_elbow": (25 + 7, 3),
    "left_wrist": (25 + 11, 7),
    "right_wrist": (25 + 6, 4),
}


class ShardFormatError(ValueError):
    """A shard member that is missing, malformed or unsafe."""


_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and plain containers; any other global is refused."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise ShardFormatError(f"refusing to unpickle {module}.{name}: only numpy arrays and plain data load")


def read_pyd(payload: bytes) -> object:
    """Unpickle a 4D-Humans ``data.pyd`` member with :class:`_NumpyOnlyUnpickler`."""
    return _NumpyOnlyUnpickler(io.BytesIO(payload)).load()


def hmr2_keypoints_to_smpl(kp: np.ndarray) -> np.ndarray:
    """HMR2.0's ``(44, C)`` keypoints (last column confidence) -> SMPL's ``(24, C)`` (0 where unmapped)."""
    out = np.zeros((NUM_JOINTS, kp.shape[1]), np.float32)
    for name, (primary, fallback) in HMR2_TO_SMPL.items():
        src = primary if kp[primary, -1] > 0 or fallback is None else fallback
        out[JOINT_INDEX[name]] = kp[src]
    return out


@dataclass(frozen=True)
class PersonRecord:
    """One annotated person, before cropping (pixels in the full image)."""

    centre: np.ndarray  # (2,)
    side: float  # crop square side, pixels
    box_size: np.ndarray  # (2,) box width, height, pixels
    kp2d: np.ndarray  # (24, 3) pixels + confidence
    kp3d: np.ndarray  # (24, 4)
    rotmats: np.ndarray  # (24, 3, 3)
    has_pose: float
    betas: np.ndarray  # (10,)
    has_betas: float


def _square_side(w: float, h: float) -> float:
    """HMR2.0's crop square: the box grown to aspect 3:4 (width:height); its height."""
    return max(h, w * 4.0 / 3.0)


def _pose_fields(orient: np.ndarray, body: np.ndarray, has: float) -> np.ndarray:
    aa = np.concatenate([orient.reshape(1, 3), body.reshape(-1, 3)])
    return axis_angle_to_matrix(aa).astype(np.float32) if has > 0 else np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3))


def _betas(b: np.ndarray | None) -> np.ndarray:
    out = np.zeros(NUM_BETAS, np.float32)
    if b is not None:
        b = np.asarray(b, np.float32).reshape(-1)[:NUM_BETAS]
        out[: len(b)] = b
    return out


def persons_from_ours(payload: bytes, name: str) -> list[PersonRecord]:
    """Our ``KEY.npz`` member -> one record per person."""
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            a = {k: np.asarray(npz[k]) for k in npz.files}
    except ValueError as exc:
        raise ShardFormatError(f"{name}: not a plain-array .npz ({exc})") from exc
    for key in ("box", "kp2d"):
        if key not in a:
            raise ShardFormatError(f"{name}: missing array {key!r}")
    n = len(a["box"])
    out = []
    for i in range(n):
        x1, y1, x2, y2 = a["box"][i].astype(np.float64)
        has_pose = float(a["has_pose"][i]) if "has_pose" in a else float("body_pose" in a)
        rot = (
            _pose_fields(a["global_orient"][i], a["body_pose"][i], has_pose)
            if "body_pose" in a
            else np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3))
        )
        out.append(
            PersonRecord(
                centre=np.array([(x1 + x2) / 2, (y1 + y2) / 2]),
                side=_square_side(x2 - x1, y2 - y1),
                box_size=np.array([x2 - x1, y2 - y1]),
                kp2d=a["kp2d"][i].astype(np.float32),
                kp3d=a["kp3d"][i].astype(np.float32) if "kp3d" in a else np.zeros((NUM_JOINTS, 4), np.float32),
                rotmats=np.asarray(rot, np.float32),
                has_pose=has_pose if "body_pose" in a else 0.0,
                betas=_betas(a["betas"][i] if "betas" in a else None),
                has_betas=float(a["has_betas"][i]) if "has_betas" in a else float("betas" in a),
            )
        )
    return out


def persons_from_hmr2(payload: bytes, name: str) -> list[PersonRecord]:
    """A 4D-Humans ``KEY.data.pyd`` member -> one record per person."""
    people = read_pyd(payload)
    if isinstance(people, dict):
        people = [people]
    out = []
    for d in people:
        try:
            centre = np.asarray(d["center"], np.float64)
            wh = np.asarray(d["scale"], np.float64).reshape(-1) * 200.0
            wh = np.broadcast_to(wh, (2,))
            pose = np.asarray(d["body_pose"], np.float64).reshape(-1, 3)
            has_pose = float(np.asarray(d.get("has_body_pose", 0.0)))
            kp3d = d.get("keypoints_3d")
            out.append(
                PersonRecord(
                    centre=centre,
                    side=_square_side(*wh),
                    box_size=wh.copy(),
                    kp2d=hmr2_keypoints_to_smpl(np.asarray(d["keypoints_2d"], np.float32)),
                    kp3d=hmr2_keypoints_to_smpl(np.asarray(kp3d, np.float32))
                    if kp3d is not None
                    else np.zeros((NUM_JOINTS, 4), np.float32),
                    rotmats=np.asarray(_pose_fields(pose[0], pose[1:24], has_pose), np.float32),
                    has_pose=has_pose,
                    betas=_betas(d.get("betas")),
                    has_betas=float(np.asarray(d.get("has_betas", 0.0))),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ShardFormatError(f"{name}: person entry malformed ({exc})") from exc
    return out


@dataclass(frozen=True)
class _Entry:
    shard: str
    image: tuple[int, int]  # (offset, size) of the image member's data
    annotation: tuple[int, int]
    layout: str  # "ours" or "hmr2"
    person: int
    name: str


def _index_shard(path: str) -> list[_Entry]:
    members: dict[str, dict[str, tarfile.TarInfo]] = {}
    with tarfile.open(path, "r:") as tar:
        for m in tar:
            if not m.isfile():
                continue
            base = Path(m.name).name
            key, _, ext = base.partition(".")
            members.setdefault(str(Path(m.name).parent / key), {})["." + ext.lower()] = m
        entries = []
        for key, parts in members.items():
            image = next((parts[s] for s in IMAGE_SUFFIXES if s in parts), None)
            ann, layout = (parts.get(".npz"), "ours") if ".npz" in parts else (parts.get(".data.pyd"), "hmr2")
            if image is None or ann is None:
                continue
            payload = tar.extractfile(ann).read()  # type: ignore[union-attr]
            reader = persons_from_ours if layout == "ours" else persons_from_hmr2
            n = len(reader(payload, f"{path}:{ann.name}"))
            for p in range(n):
                entries.append(
                    _Entry(path, (image.offset_data, image.size), (ann.offset_data, ann.size), layout, p, key)
                )
    return entries


def _read(path: str, where: tuple[int, int]) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(where[0])
        return fh.read(where[1])


class ImageShards(Dataset):
    """Every annotated person in a set of shards, cropped for the backbone (stage 1 samples).

    Args:
        patterns: shard paths or globs.
        camera: crop convention (crop-square size, normalisation).
        image_size: the backbone's (height, width).
    """

    def __init__(self, patterns: tuple[str, ...] | list[str], camera: CameraConfig, image_size: tuple[int, int]):
        files = sorted({f for p in patterns for f in (glob.glob(p) or [p])})
        self.entries = [e for f in files for e in _index_shard(f)]
        if not self.entries:
            raise ShardFormatError(f"no annotated images in {list(patterns)}")
        self.camera = camera
        self.height, self.width = image_size
        log.info("indexed %d people in %d shards", len(self.entries), len(files))

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return self.sample(index)

    def sample(self, index: int, shift: np.ndarray | None = None, zoom: float = 1.0) -> dict[str, np.ndarray]:
        """Person ``index`` cropped with the square moved by ``shift`` (fraction of its side) and zoomed."""
        e = self.entries[index]
        raw = np.frombuffer(_read(e.shard, e.image), np.uint8)
        bgr = cv2.imdecode(raw, cv2.IMREAD_COLOR)
        if bgr is None:
            raise ShardFormatError(f"{e.shard}:{e.name}: image does not decode")
        reader = persons_from_ours if e.layout == "ours" else persons_from_hmr2
        person = reader(_read(e.shard, e.annotation), f"{e.shard}:{e.name}")[e.person]
        side = person.side / zoom
        centre = person.centre + (np.zeros(2) if shift is None else np.asarray(shift) * person.side)
        rgb = torch.from_numpy(bgr).permute(2, 0, 1)[[2, 1, 0]]  # (3, H, W) uint8
        centres, sides = torch.from_numpy(np.asarray(centre, np.float64))[None], torch.tensor([float(side)])
        img = crop_people(rgb, centres, sides, (self.height, self.width), self.camera)
        xy = (person.kp2d[:, :2] - centre) / side
        conf = person.kp2d[:, 2] * visible_in_crop(xy, self.height, self.width)
        half = person.box_size / (2 * side)
        off = (person.centre - centre) / side
        frame = empty_frame(self.height, self.width)
        frame.update(
            img=img[0].numpy(),
            kp2d=np.concatenate([xy, conf[:, None]], axis=1).astype(np.float32),
            kp3d=person.kp3d.astype(np.float32),
            rotmats=person.rotmats.astype(np.float32),
            has_pose=np.float32(person.has_pose),
            betas=person.betas,
            has_betas=np.float32(person.has_betas),
            person=np.float32(1.0),
            body_box=np.concatenate([off - half, off + half]).astype(np.float32),
        )
        return frame


class PanZoomSequences(Dataset):
    """``seq_len``-frame sequences made by panning and zooming the crop over one annotated image."""

    def __init__(self, images: ImageShards, seq_len: int, seed: int = 0) -> None:
        self.images = images
        self.seq_len = seq_len
        self.seed = seed

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, index])
        shift, zoom = pan_zoom_path(rng, self.seq_len)
        return stack_frames([self.images.sample(index, shift[t], float(zoom[t])) for t in range(self.seq_len)])


__all__ = [
    "HMR2_TO_SMPL",
    "ImageShards",
    "PanZoomSequences",
    "PersonRecord",
    "ShardFormatError",
    "hmr2_keypoints_to_smpl",
    "persons_from_hmr2",
    "persons_from_ours",
    "read_pyd",
]
