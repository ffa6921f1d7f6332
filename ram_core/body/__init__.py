"""Body fitting for the ``lite`` backend, numpy only: landmarks -> SMPL joints -> rotations.

* :mod:`ram_core.body.blazepose`: MediaPipe's 33 BlazePose landmarks -> targets for SMPL's 24 joints.
* :mod:`ram_core.body.ik`: joint rotations (global_orient, body_pose) that pose a rest skeleton onto targets.
* :mod:`ram_core.body.camera`: pinhole intrinsics and the root translation from 2D keypoints.
* :mod:`ram_core.body.smoothing`: One-Euro smoothing of rotations/translation and short-gap filling.
* :mod:`ram_core.body.smpl_convert`: official SMPL ``.pkl`` files read without chumpy.
"""
