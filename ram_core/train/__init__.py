"""Training RAM's three stages (METHOD.md, "Training"): losses, data readers, the loop, DDP and resume."""
