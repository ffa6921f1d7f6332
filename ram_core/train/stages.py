"""The three training stages as step modules over :class:`ram_core.models.ram.RamModel`.

- Stage 1 trains T-HMR's single-frame path (backbone and decoder, without the temporal
  cross-attentions, which single images never use) with the SMPL losses, a confidence head and a
  keypoint heatmap head (both training-only auxiliary heads).
- Stage 2 trains the Predictor on ``T``-frame sequences: frozen T-HMR turns every frame into a
  token; the Predictor, seeded with the first frame's token, is unrolled to frame ``T``; with
  scheduled sampling each step's queue gets the observed token (probability falling over the run)
  or its own prediction. Every predicted frame gets the 3D joint and 2D projection losses.
- Stage 3 trains the Combiner alone: frames after the first are masked (60% of the body box) at
  random, frozen T-HMR and Predictor run as at inference, and the fused token of every frame after
  the first gets the stage-1 SMPL losses.
"""

from __future__ import annotations

import torch
from torch import nn

from ram_core.models.config import CameraConfig, RamConfig
from ram_core.models.ram import RamModel, SmplParams
from ram_core.train import losses
from ram_core.train.body import SkeletonJoints, project_to_crop
from ram_core.train.config import LossWeights, Stage2Config, Stage3Config
from ram_core.train.masking import mask_body_regions

Batch = dict[str, torch.Tensor]
Metrics = dict[str, torch.Tensor]

# Stage -> the RamModel parts it trains (recorded as "trained" in the saved checkpoint).
STAGE_PARTS: dict[str, tuple[str, ...]] = {
    "stage1": ("backbone", "thmr"),
    "stage2": ("predictor",),
    "stage3": ("combiner",),
}
TEMPORAL_PREFIXES: tuple[str, ...] = ("frames_norm", "frames_attn", "time_norm", "time_attn")


class AuxHeads(nn.Module):
    """Training-only heads: confidence logit from the SMPL token, keypoint heatmaps from image tokens."""

    def __init__(self, cfg: RamConfig) -> None:
        super().__init__()
        self.grid = cfg.backbone.grid
        self.confidence = nn.Linear(cfg.head.dim, 1)
        self.heatmap = nn.Linear(cfg.backbone.embed_dim, cfg.head.num_joints)

    def heatmaps(self, tokens: torch.Tensor) -> torch.Tensor:
        """Image tokens ``(B, N, D)`` (row-major grid) -> ``(B, J, rows, cols)`` heatmaps."""
        rows, cols = self.grid
        return self.heatmap(tokens).transpose(1, 2).reshape(tokens.shape[0], -1, rows, cols)


class SmplLoss(nn.Module):
    """The stage-1 SMPL loss of one frame: 2D, 3D, rotation and betas terms (negatives masked out)."""

    def __init__(self, joints: SkeletonJoints, camera: CameraConfig, weights: LossWeights) -> None:
        super().__init__()
        self.joints = joints
        self.camera = camera
        self.weights = weights

    def forward(self, params: SmplParams, frame: Batch) -> tuple[torch.Tensor, Metrics]:
        """Loss of predicted parameters (batch B) against one frame's annotations (keys of ``samples``)."""
        w = self.weights
        person = frame["person"]
        joints = self.joints(params.rotmats, params.betas)
        proj = project_to_crop(joints, params.cam, self.camera)
        kp2d = torch.cat([frame["kp2d"][..., :2], frame["kp2d"][..., 2:] * person[:, None, None]], dim=-1)
        kp3d = torch.cat([frame["kp3d"][..., :3], frame["kp3d"][..., 3:] * person[:, None, None]], dim=-1)
        terms = {
            "kp2d": losses.keypoint_2d_l1(proj, kp2d),
            "kp3d": losses.joints_3d_l1(joints, kp3d),
            "rotation": losses.rotation_l2(params.rotmats, frame["rotmats"], frame["has_pose"] * person),
            "betas": losses.betas_l1(params.betas, frame["betas"], frame["has_betas"] * person),
        }
        total = (
            w.kp2d * terms["kp2d"] + w.kp3d * terms["kp3d"] + w.rotation * terms["rotation"] + w.betas * terms["betas"]
        )
        return total, {k: v.detach() for k, v in terms.items()}


def _frame(batch: Batch, t: int) -> Batch:
    """Frame ``t`` of a sequence batch (every value has a leading ``(B, T)``)."""
    return {k: v[:, t] for k, v in batch.items()}


def _mean_metrics(items: list[Metrics]) -> Metrics:
    return {k: torch.stack([m[k] for m in items]).mean() for k in items[0]}


class _FrozenStep(nn.Module):
    """Base: keeps every parameter outside ``trainable`` frozen (no grad) and in eval mode."""

    def __init__(self, model: RamModel, trainable: tuple[nn.Module, ...]) -> None:
        super().__init__()
        self.model = model
        self._trainable = trainable
        for p in model.parameters():
            p.requires_grad_(False)
        for m in trainable:
            for p in m.parameters():
                p.requires_grad_(True)

    def train(self, mode: bool = True) -> _FrozenStep:
        super().train(False)
        for m in self._trainable:
            m.train(mode)
        return self


class Stage1Step(nn.Module):
    """T-HMR on single images: SMPL losses + confidence BCE + keypoint heatmaps."""

    def __init__(self, model: RamModel, aux: AuxHeads, smpl_loss: SmplLoss) -> None:
        super().__init__()
        self.model = model
        self.aux = aux
        self.smpl_loss = smpl_loss
        for name, p in model.named_parameters():
            temporal = name.startswith("thmr.") and any(f".{t}." in name for t in TEMPORAL_PREFIXES)
            p.requires_grad_(name.startswith(("backbone.", "thmr.")) and not temporal)

    def forward(self, batch: Batch, gen: torch.Generator, step: int) -> tuple[torch.Tensor, Metrics]:
        tokens = self.model.encode(batch["img"])
        token = self.model.decode(tokens)
        loss, metrics = self.smpl_loss(self.model.smpl(token), batch)
        w = self.smpl_loss.weights
        conf = losses.confidence_bce(self.aux.confidence(token)[:, 0], batch["person"])
        height, width = batch["img"].shape[-2:]
        # Heatmaps span the backbone crop, not the square: rescale x by the square/crop ratio.
        kp = batch["kp2d"] * torch.tensor([height / width, 1.0, 1.0], device=tokens.device)
        kp = torch.cat([kp[..., :2], kp[..., 2:] * batch["person"][:, None, None]], dim=-1)
        heat = losses.heatmap_mse(self.aux.heatmaps(tokens), kp, w.heatmap_sigma)
        metrics.update(confidence=conf.detach(), heatmap=heat.detach())
        return loss + w.confidence * conf + w.heatmap * heat, metrics


def teacher_forcing(cfg: Stage2Config, step: int, max_steps: int) -> float:
    """Scheduled-sampling probability of feeding the observed token at ``step``."""
    span = cfg.decay_steps or max_steps
    frac = min(1.0, step / max(1, span))
    return cfg.teacher_forcing_start + frac * (cfg.teacher_forcing_end - cfg.teacher_forcing_start)


def _queue_input(queue: list[torch.Tensor], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The last ``size`` states, oldest first, as ``(B, q, D)`` with no padding."""
    states = torch.stack(queue[-size:], dim=1)
    return states, torch.zeros(states.shape[:2], dtype=torch.bool, device=states.device)


class Stage2Step(_FrozenStep):
    """The Predictor unrolled over a sequence with scheduled sampling; 3D joint + 2D losses."""

    def __init__(self, model: RamModel, smpl_loss: SmplLoss, cfg: Stage2Config, max_steps: int) -> None:
        super().__init__(model, (model.predictor,))
        self.joint_loss = SmplLoss(smpl_loss.joints, smpl_loss.camera, _joint_weights(smpl_loss.weights))
        self.cfg = cfg
        self.max_steps = max_steps

    def observed_tokens(self, img: torch.Tensor) -> torch.Tensor:
        """Frozen T-HMR on every frame: ``(B, T, 3, H, W)`` -> ``(B, T, dim)``."""
        b, t = img.shape[:2]
        with torch.no_grad():
            return self.model.decode(self.model.encode(img.flatten(0, 1))).view(b, t, -1)

    def forward(self, batch: Batch, gen: torch.Generator, step: int) -> tuple[torch.Tensor, Metrics]:
        observed = self.observed_tokens(batch["img"])
        b, t = observed.shape[:2]
        p_obs = teacher_forcing(self.cfg, step, self.max_steps)
        coins = torch.rand(b, t, generator=gen).to(observed.device) < p_obs
        queue = [observed[:, 0]]
        total, items = observed.new_zeros(()), []
        for i in range(1, t):
            predicted = self.model.predictor(*_queue_input(queue, self.model.cfg.predictor.queue))
            loss, metrics = self.joint_loss(self.model.smpl(predicted), _frame(batch, i))
            total = total + loss / (t - 1)
            items.append(metrics)
            queue.append(torch.where(coins[:, i, None], observed[:, i], predicted))
        out = _mean_metrics(items)
        out["teacher_forcing"] = torch.tensor(p_obs)
        return total, out


def _joint_weights(w: LossWeights) -> LossWeights:
    """Stage 2 supervises only joints: the 2D and 3D terms keep their weights, the rest are 0."""
    return LossWeights(kp2d=w.kp2d, kp3d=w.kp3d, rotation=0.0, betas=0.0, confidence=0.0, heatmap=0.0)


class Stage3Step(_FrozenStep):
    """The Combiner alone, on sequences with random 60% body masking; stage-1 SMPL losses."""

    def __init__(self, model: RamModel, smpl_loss: SmplLoss, cfg: Stage3Config) -> None:
        super().__init__(model, (model.combiner,))
        self.smpl_loss = smpl_loss
        self.cfg = cfg

    def forward(self, batch: Batch, gen: torch.Generator, step: int) -> tuple[torch.Tensor, Metrics]:
        img = batch["img"]
        b, t = img.shape[:2]
        masked = torch.rand(b, t, generator=gen) < self.cfg.mask_prob
        masked[:, 0] = False
        occluded = mask_body_regions(
            img.flatten(0, 1), batch["body_box"].flatten(0, 1), self.cfg.mask_ratio, self.cfg.grid, gen
        ).view_as(img)
        img = torch.where(masked.to(img.device)[:, :, None, None, None], occluded, img)
        visibility = 1.0 - self.cfg.mask_ratio * masked.to(img.device, img.dtype)
        with torch.no_grad():
            observed = self.model.decode(self.model.encode(img.flatten(0, 1))).view(b, t, -1)
        queue = [observed[:, 0]]
        total, items = img.new_zeros(()), []
        for i in range(1, t):
            with torch.no_grad():
                predicted = self.model.predictor(*_queue_input(queue, self.model.cfg.predictor.queue))
            fused, gate = self.model.combiner(observed[:, i], predicted, visibility[:, i])
            loss, metrics = self.smpl_loss(self.model.smpl(fused), _frame(batch, i))
            metrics["gate"] = gate.detach().mean()
            total = total + loss / (t - 1)
            items.append(metrics)
            queue.append(fused)
        return total, _mean_metrics(items)


__all__ = [
    "STAGE_PARTS",
    "AuxHeads",
    "SmplLoss",
    "Stage1Step",
    "Stage2Step",
    "Stage3Step",
    "teacher_forcing",
]
