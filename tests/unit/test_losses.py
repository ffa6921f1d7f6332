"""Each training loss against a value worked out by hand."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from ram_core.train import losses


def test_keypoint_2d_l1_weights_by_confidence() -> None:
    pred = torch.tensor([[[0.1, 0.2], [0.0, 0.0], [0.3, -0.3]]])
    target = torch.tensor([[[0.0, 0.0, 1.0], [0.4, 0.4, 0.0], [0.1, -0.1, 0.5]]])
    # joint 0: |0.1|+|0.2| = 0.3 (w 1); joint 1 ignored (w 0); joint 2: 0.2+0.2 = 0.4 (w 0.5)
    # sum = 0.3 + 0.2 = 0.5 over weights 2 * (1 + 0.5) = 3
    assert losses.keypoint_2d_l1(pred, target).item() == pytest.approx(0.5 / 3.0)


def test_keypoint_2d_l1_zero_when_nothing_annotated() -> None:
    pred = torch.ones(2, 3, 2)
    target = torch.zeros(2, 3, 3)
    assert losses.keypoint_2d_l1(pred, target).item() == 0.0


def test_joints_3d_l1_is_root_relative() -> None:
    gt = torch.tensor([[[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]]])
    # Same shape shifted by 5 m, second joint off by 0.3 in x: only the 0.3 counts.
    pred = torch.tensor([[[5.0, 5.0, 5.0], [5.3, 6.0, 5.0]]])
    # joint 0 relative error 0; joint 1: (0.3, 0, 0) -> sum 0.3 over 6 weighted coordinates
    assert losses.joints_3d_l1(pred, gt).item() == pytest.approx(0.3 / 6.0)


def test_joints_3d_l1_ignores_samples_without_root() -> None:
    gt = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]])
    pred = torch.zeros(1, 2, 3)
    assert losses.joints_3d_l1(pred, gt).item() == 0.0


def test_rotation_l2_masked() -> None:
    eye = torch.eye(3)
    rz = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 deg about z
    pred = torch.stack([torch.stack([eye, rz]), torch.stack([rz, rz])])
    target = torch.stack([torch.stack([eye, eye]), torch.stack([eye, eye])])
    # Rz - I = [[-1, -1, 0], [1, -1, 0], [0, 0, 0]], so ||Rz - I||_F^2 = 4
    # sample 0: joints (0, 4) -> mean 2; sample 1 masked out.
    mask = torch.tensor([1.0, 0.0])
    assert losses.rotation_l2(pred, target, mask).item() == pytest.approx(2.0)
    both = torch.tensor([1.0, 1.0])
    assert losses.rotation_l2(pred, target, both).item() == pytest.approx((0 + 4 + 4 + 4) / 4)


def test_betas_l1_masked() -> None:
    pred = torch.tensor([[1.0, -1.0], [9.0, 9.0]])
    target = torch.tensor([[0.5, 0.0], [0.0, 0.0]])
    mask = torch.tensor([1.0, 0.0])
    assert losses.betas_l1(pred, target, mask).item() == pytest.approx((0.5 + 1.0) / 2)


def test_confidence_bce_hand_value() -> None:
    logits = torch.tensor([0.0, math.log(3.0)])  # sigmoid: 0.5, 0.75
    target = torch.tensor([1.0, 0.0])
    expected = (-math.log(0.5) - math.log(0.25)) / 2
    assert losses.confidence_bce(logits, target).item() == pytest.approx(expected)


def test_gaussian_heatmap_peak_and_falloff() -> None:
    # 4x4 grid: cell (1, 2) centre is x = 2.5/4 - 0.5 = 0.125, y = 1.5/4 - 0.5 = -0.125
    kp = torch.tensor([[[0.125, -0.125]]])
    hm = losses.gaussian_heatmaps(kp, 4, 4, sigma=1.0)
    assert hm.shape == (1, 1, 4, 4)
    assert hm[0, 0, 1, 2].item() == pytest.approx(1.0)
    assert hm[0, 0, 1, 3].item() == pytest.approx(math.exp(-0.5))
    assert hm[0, 0, 3, 2].item() == pytest.approx(math.exp(-2.0))


def test_heatmap_mse_hand_value() -> None:
    kp = torch.tensor([[[0.125, -0.125, 1.0], [0.0, 0.0, 0.0]]])
    target = losses.gaussian_heatmaps(kp[..., :2], 4, 4, sigma=1.0)
    pred = target.clone()
    pred[0, 0, 0, 0] += 0.4  # one cell off by 0.4 on the confident joint
    pred[0, 1] += 10.0  # the unannotated joint does not count
    assert losses.heatmap_mse(pred, kp, sigma=1.0).item() == pytest.approx(0.16 / 16)


def test_losses_have_gradients() -> None:
    pred = torch.zeros(1, 2, 3, requires_grad=True)
    gt = torch.tensor([[[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]]])
    losses.joints_3d_l1(pred, gt).backward()
    assert pred.grad is not None and pred.grad.abs().sum().item() > 0
