"""Blender operators: thin wrappers that call the importer, the session or a capture job and report."""
