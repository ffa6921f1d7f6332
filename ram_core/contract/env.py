"""Environment variables a client sets for the worker (the Blender add-on's preferences reach the backends so)."""

#: The ``ram`` backend's torch device unless its config file names one (the add-on's Device preference).
DEVICE_ENV = "RAM_DEVICE"
#: The folder holding the weight files (the add-on's Weights Folder preference).
WEIGHTS_DIR_ENV = "RAM_WEIGHTS_DIR"
