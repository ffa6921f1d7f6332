"""The numpy-only contract between the worker and its clients (Blender, the CLI).

Nothing here imports more than numpy and the standard library, so Blender's Python can use it.
"""
