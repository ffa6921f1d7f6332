"""Write tests/data/results/v2_scene.ram.npz with the version-2 writer (ram_core at commit ad5c5e3)."""

import dataclasses
import sys

import numpy as np

from ram_core.contract.results import FORMAT_VERSION, save_results
from tests.unit.test_results import sample_results

assert FORMAT_VERSION == 2
r = sample_results()
w = np.eye(4)
w[2, 3] = 2.5
r = dataclasses.replace(
    r,
    meta=dataclasses.replace(
        r.meta, world_from_camera=w, floor_cam=np.array([0.0, -1.0, 0.0, 2.5]), scene_status="solved: a test"
    ),
)
for t in r.tracks:
    t.scale[:] = 1.1
save_results(r, sys.argv[1])
