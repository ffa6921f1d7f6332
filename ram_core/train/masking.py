"""Stage 3's simulated occlusion: blank out a share of the body's region in the crop."""

from __future__ import annotations

import torch


def mask_body_regions(
    img: torch.Tensor, body_box: torch.Tensor, ratio: float, grid: int, generator: torch.Generator
) -> torch.Tensor:
    """Blank ``round(ratio * grid**2)`` random cells of a ``grid x grid`` split of each body box.

    Blank means 0 in the normalised image, i.e. the data set's mean colour.

    Args:
        img: ``(B, 3, H, W)`` normalised crops (H is the crop square's side, W its central columns).
        body_box: ``(B, 4)`` x1, y1, x2, y2 in normalised crop-square coordinates.
        ratio: share of the box's cells to blank, in [0, 1].
        grid: cells per side.
        generator: CPU generator choosing the cells.

    Returns:
        ``(B, 3, H, W)`` masked copy.
    """
    b, _, height, width = img.shape
    n_cells = grid * grid
    n_masked = round(ratio * n_cells)
    scores = torch.rand(b, n_cells, generator=generator)
    chosen = torch.zeros(b, n_cells, dtype=torch.bool)
    chosen.scatter_(1, scores.argsort(dim=1)[:, :n_masked], True)
    chosen = chosen.view(b, grid, grid).to(img.device)
    # Pixel centres in normalised crop-square coordinates (the crop is the square's central columns).
    xs = (torch.arange(width, device=img.device) + 0.5 + (height - width) / 2) / height - 0.5
    ys = (torch.arange(height, device=img.device) + 0.5) / height - 0.5
    box = body_box.to(img.device)
    size = (box[:, 2:] - box[:, :2]).clamp_min(1e-6)
    cx = ((xs[None] - box[:, 0:1]) / size[:, 0:1] * grid).floor().long()  # (B, W)
    cy = ((ys[None] - box[:, 1:2]) / size[:, 1:2] * grid).floor().long()  # (B, H)
    inside = (cx[:, None, :] >= 0) & (cx[:, None, :] < grid) & (cy[:, :, None] >= 0) & (cy[:, :, None] < grid)
    batch = torch.arange(b, device=img.device)[:, None, None]
    hit = chosen[batch, cy.clamp(0, grid - 1)[:, :, None], cx.clamp(0, grid - 1)[:, None, :]] & inside
    return img.masked_fill(hit[:, None], 0.0)


__all__ = ["mask_body_regions"]
