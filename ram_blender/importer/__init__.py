"""The importer: a numpy-only plan (``plan``) and the bpy builder (``build``, ``keys``)."""
