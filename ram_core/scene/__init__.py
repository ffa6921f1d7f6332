"""The whole clip at once, on the client's side: the floor, the camera above it, each person's size, their
steady depth and contact, and the temporal body fit (``refine`` runs them in order). Numpy only."""
