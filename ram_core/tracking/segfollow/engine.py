"""SAM2 per frame, for all tracked people at once, composed over the official ``SAM2Base``.

Per frame the image encoder runs once (`Sam2Engine.encode`). Tracked people are decoded in one batch
(`propose`): SAM2's ``_prepare_memory_conditioned_features`` is called unchanged, but on a two-entry memory
view that SegFollow builds from each person's `ObjectMemory` instead of SAM2's per-frame output dict: the
prompt frame's memory as the conditioning frame and the EMA buffer as the most recent frame. The mask
decoder gives 3 candidate masks per person with predicted IoUs and an object score; their boxes and
affinities go to the selector. `finish` turns the chosen candidates into masks at the video's resolution
and, for reliable people only, encodes the memory K_t (batched). New people are prompted with a box
(`prompt`) exactly as ``SAM2VideoPredictor.add_new_points_or_box`` does (box corners as points with
labels 2 and 3 on an initial conditioning frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sam2.modeling.sam2_base import SAM2Base

from ram_core.tracking.segfollow.memory import MemoryObservation, ObjectMemory

_IMG_MEAN = (0.485, 0.456, 0.406)
_IMG_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class FrameFeatures:
    """One frame's image-encoder output (batch 1) and the video frame size (px)."""

    backbone: dict
    height: int
    width: int


@dataclass(frozen=True)
class Proposals:
    """Candidate masks of T tracked people, K per person.

    boxes: (T, K, 4) float64 xyxy in video px (zeros where the mask is empty).
    affinity: (T, K) in [0, 1]: SAM2's predicted IoU times its object-presence probability.
    The tensors (engine-private) keep what `Sam2Engine.finish` needs.
    """

    boxes: np.ndarray
    affinity: np.ndarray
    low_res: torch.Tensor | None = None
    high_res: torch.Tensor | None = None
    tokens: torch.Tensor | None = None
    object_scores: torch.Tensor | None = None


@dataclass(frozen=True)
class Prompted:
    """New people prompted with boxes: their memories, masks (N, H, W) bool and confidences (N,)."""

    memories: list[ObjectMemory]
    masks: np.ndarray
    confidence: np.ndarray


def mask_boxes(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Tight boxes of boolean masks (..., H, W) -> xyxy (..., 4) in mask px (x2, y2 exclusive), valid (...)."""
    rows = masks.any(dim=-1)
    cols = masks.any(dim=-2)
    h, w = masks.shape[-2:]
    y1 = rows.float().argmax(dim=-1)
    y2 = h - rows.flip(-1).float().argmax(dim=-1)
    x1 = cols.float().argmax(dim=-1)
    x2 = w - cols.flip(-1).float().argmax(dim=-1)
    valid = rows.any(dim=-1)
    boxes = torch.stack([x1, y1, x2, y2], dim=-1).float() * valid[..., None]
    return boxes, valid


class Sam2Engine:
    """Batched SAM2 steps for SegFollow over a built ``SAM2Base`` (eval mode, weights loaded).

    prompt_distance: the frame distance SAM2's temporal encodings see between the prompt memory and the
      current frame. The EMA buffer is always presented as the previous frame. A fixed distance keeps every
      person on the same timeline, so all are decoded in one batch; the default 15 is SAM2's largest
      object-pointer distance (``max_obj_ptrs_in_encoder - 1``), where its pointer encoding saturates.
    """

    def __init__(self, model: SAM2Base, prompt_distance: int = 15) -> None:
        if prompt_distance < 2:
            raise ValueError("prompt_distance must be at least 2 (the EMA memory sits at distance 1)")
        self.model = model
        self.prompt_distance = prompt_distance
        self.image_size = int(model.image_size)
        self._memory_pos: torch.Tensor | None = None
        self._tokens: torch.Tensor | None = None
        model.sam_mask_decoder.register_forward_hook(self._keep_tokens)
        self._mean = torch.tensor(_IMG_MEAN).view(1, 3, 1, 1)
        self._std = torch.tensor(_IMG_STD).view(1, 3, 1, 1)

    def _keep_tokens(self, module: torch.nn.Module, inputs: tuple, outputs: tuple) -> None:
        """Keep the decoder's output tokens (B, K or 1, C): the pointer of a non-argmax candidate needs them."""
        self._tokens = outputs[2]

    @property
    def device(self) -> torch.device:
        return self.model.device

    def encode(self, image_bgr: np.ndarray) -> FrameFeatures:
        """Run the image encoder on one frame (H, W, 3) uint8 BGR, resized to image_size x image_size."""
        height, width = image_bgr.shape[:2]
        image = torch.from_numpy(np.ascontiguousarray(image_bgr)).to(self.device)
        image = image[..., [2, 1, 0]].permute(2, 0, 1)[None].float() / 255.0
        size = (self.image_size, self.image_size)
        image = F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
        image = (image - self._mean.to(image.device)) / self._std.to(image.device)
        return FrameFeatures(backbone=self.model.forward_image(image), height=height, width=width)

    def _expanded(self, frame: FrameFeatures, n: int) -> tuple[list, list, list]:
        """Backbone features repeated for n objects (views, no copy): vision feats, pos embeds, sizes."""
        out = {
            "backbone_fpn": [f.expand(n, -1, -1, -1) for f in frame.backbone["backbone_fpn"]],
            "vision_pos_enc": [p.expand(n, -1, -1, -1) for p in frame.backbone["vision_pos_enc"]],
        }
        _, feats, pos, sizes = self.model._prepare_backbone_features(out)
        return feats, pos, sizes

    def _decode(self, frame: FrameFeatures, n: int, view: dict | None, point_inputs: dict | None, multimask: bool):
        """Memory attention (or the no-memory embedding on a prompt frame) then the SAM heads, for n objects."""
        feats, pos, sizes = self._expanded(frame, n)
        empty = {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}
        pix = self.model._prepare_memory_conditioned_features(
            frame_idx=self.prompt_distance if view is not None else 0,
            is_init_cond_frame=view is None,
            current_vision_feats=feats[-1:],
            current_vision_pos_embeds=pos[-1:],
            feat_sizes=sizes[-1:],
            output_dict=view if view is not None else empty,
            num_frames=self.prompt_distance + 1,
        )
        high_res = [x.permute(1, 2, 0).view(n, x.size(2), *s) for x, s in zip(feats[:-1], sizes[:-1])] or None
        outs = self.model._forward_sam_heads(
            backbone_features=pix,
            point_inputs=point_inputs,
            mask_inputs=None,
            high_res_features=high_res,
            multimask_output=multimask,
        )
        return feats, sizes, outs

    def _encode_memory(
        self, frame_feats: list, sizes: list, masks_high_res: torch.Tensor, scores: torch.Tensor, from_points: bool
    ) -> torch.Tensor:
        n = masks_high_res.shape[0]
        features, pos = self.model._encode_new_memory(
            current_vision_feats=[frame_feats[-1][:, :n]],
            feat_sizes=sizes[-1:],
            pred_masks_high_res=masks_high_res,
            object_score_logits=scores,
            is_mask_from_pts=from_points,
        )
        if self._memory_pos is None:
            self._memory_pos = pos[-1][:1].clone()
        return features

    def _video_masks(self, low_res: torch.Tensor, frame: FrameFeatures) -> np.ndarray:
        """Low-res logits (N, 1, h, w) -> (N, H, W) bool at the video's resolution."""
        up = F.interpolate(low_res, size=(frame.height, frame.width), mode="bilinear", align_corners=False)
        return (up[:, 0] > 0).cpu().numpy()

    def _to_video_boxes(self, boxes: torch.Tensor, frame: FrameFeatures) -> np.ndarray:
        scale = torch.tensor(
            [frame.width, frame.height, frame.width, frame.height], device=boxes.device, dtype=torch.float32
        )
        return (boxes * scale / self.image_size).double().cpu().numpy()

    def prompt(self, frame: FrameFeatures, boxes: np.ndarray) -> Prompted:
        """Start N people from boxes (N, 4) xyxy video px on this frame (SAM2's initial conditioning frame)."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        n = boxes.shape[0]
        scale = np.array([frame.width, frame.height], np.float32)
        coords = torch.from_numpy(boxes.reshape(n, 2, 2) / scale * self.image_size).to(self.device)
        labels = torch.tensor([[2, 3]], dtype=torch.int32, device=self.device).expand(n, -1)
        points = {"point_coords": coords, "point_labels": labels}
        feats, sizes, outs = self._decode(
            frame, n, None, points, self.model._use_multimask(is_init_cond_frame=True, point_inputs=points)
        )
        _, _, ious, low_res, high_res, pointer, scores = outs
        features = self._encode_memory(feats, sizes, high_res, scores, from_points=True)
        confidence = (ious.max(dim=1).values.clamp(0, 1) * torch.sigmoid(scores[:, 0])).float().cpu().numpy()
        memories = [
            ObjectMemory.from_prompt(MemoryObservation(features[i : i + 1].clone(), pointer[i : i + 1].clone()))
            for i in range(n)
        ]
        return Prompted(memories=memories, masks=self._video_masks(low_res, frame), confidence=confidence)

    def _view(self, memories: list[ObjectMemory]) -> dict:
        """SAM2's output-dict shape holding only the prompt memories (cond) and the EMA buffers (last frame)."""
        t = len(memories)
        pos = [self._memory_pos.expand(t, -1, -1, -1)]
        cond = {
            "maskmem_features": torch.cat([m.prompt_features for m in memories]),
            "maskmem_pos_enc": pos,
            "obj_ptr": torch.cat([m.prompt_pointer for m in memories]),
        }
        recent = {
            "maskmem_features": torch.cat([m.features for m in memories]),
            "maskmem_pos_enc": pos,
            "obj_ptr": torch.cat([m.pointer for m in memories]),
        }
        return {"cond_frame_outputs": {0: cond}, "non_cond_frame_outputs": {self.prompt_distance - 1: recent}}

    def propose(self, frame: FrameFeatures, memories: list[ObjectMemory]) -> Proposals:
        """Candidate masks for every tracked person, in one batch."""
        t = len(memories)
        _, _, outs = self._decode(frame, t, self._view(memories), None, multimask=True)
        low_res, high_res, ious, _, _, _, scores = outs
        boxes, _ = mask_boxes(high_res > 0)
        affinity = ious.float().clamp(0, 1) * torch.sigmoid(scores.float())
        return Proposals(
            boxes=self._to_video_boxes(boxes, frame),
            affinity=affinity.double().cpu().numpy(),
            low_res=low_res,
            high_res=high_res,
            tokens=self._tokens,
            object_scores=scores,
        )

    def _pointer(self, tokens: torch.Tensor, chosen: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """The object pointer of the chosen candidate, as ``SAM2Base._forward_sam_heads`` makes it for the best."""
        model = self.model
        k = chosen if tokens.size(1) > 1 else torch.zeros_like(chosen)
        pointer = model.obj_ptr_proj(tokens[torch.arange(tokens.size(0), device=tokens.device), k])
        if model.pred_obj_scores:
            present = torch.sigmoid(scores) if model.soft_no_obj_ptr else (scores > 0).float()
            if model.fixed_no_obj_ptr:
                pointer = present * pointer
            pointer = pointer + (1 - present) * model.no_obj_ptr
        return pointer

    def finish(
        self, frame: FrameFeatures, proposals: Proposals, chosen: np.ndarray, remember: np.ndarray
    ) -> tuple[np.ndarray, list[MemoryObservation | None]]:
        """Masks of the chosen candidates and, where ``remember``, this frame's memory K_t.

        chosen: (T,) candidate index per person. remember: (T,) bool, the reliable people.
        Returns masks (T, H, W) bool in video px and T observations (None where not remembered).
        """
        t = len(chosen)
        rows = torch.arange(t, device=self.device)
        k = torch.as_tensor(np.asarray(chosen, dtype=np.int64), device=self.device)
        masks = self._video_masks(proposals.low_res[rows, k][:, None], frame)
        observations: list[MemoryObservation | None] = [None] * t
        keep = np.flatnonzero(remember)
        if keep.size:
            idx = torch.as_tensor(keep, device=self.device)
            feats, _, sizes = self._expanded(frame, keep.size)
            scores = proposals.object_scores[idx]
            features = self._encode_memory(feats, sizes, proposals.high_res[idx, k[idx]][:, None], scores, False)
            pointers = self._pointer(proposals.tokens[idx], k[idx], scores)
            for j, i in enumerate(keep):
                observations[i] = MemoryObservation(features[j : j + 1], pointers[j : j + 1])
        return masks, observations
