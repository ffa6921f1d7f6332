"""The scene around a capture: the floor, the camera above it, each person's size. Numpy only."""
