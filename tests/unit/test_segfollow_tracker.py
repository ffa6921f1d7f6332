"""SegFollow's per-frame logic on scripted SAM2 candidates: selection, gated update, EMA memory, ids.

The engine here replaces SAM2 with a script: each person's candidate boxes and affinities per frame.
Its memories are numpy arrays: the prompt pointer holds the person's index, an observation K_t holds the
frame index, so the EMA buffer shows which frames entered it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sam2")

from ram_core.tracking.association import with_association
from ram_core.tracking.boxes import iou_matrix
from ram_core.tracking.segfollow.engine import Prompted, Proposals
from ram_core.tracking.segfollow.memory import MemoryObservation, ObjectMemory
from ram_core.tracking.segfollow.tracker import SegFollowConfig, SegFollowTracker
from ram_core.tracking.selector import GateConfig, UpdateConfig

H, W = 120, 240
Script = Callable[[int, int], tuple[np.ndarray, np.ndarray]]


def box_at(cx: float, cy: float = 60.0, w: float = 20.0, h: float = 60.0) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


class ScriptedEngine:
    """Candidates from ``script(frame, person) -> (boxes (K, 4), affinity (K,))``; people found at prompt time."""

    def __init__(self, script: Script, people_at: Callable[[int], np.ndarray]) -> None:
        self.script = script
        self.people_at = people_at
        self.frame = -1
        self.chosen: list[np.ndarray] = []

    def encode(self, image_bgr: np.ndarray) -> int:
        self.frame += 1
        return self.frame

    def prompt(self, frame: int, boxes: np.ndarray) -> Prompted:
        truth = self.people_at(frame)
        who = iou_matrix(boxes, truth).argmax(axis=1)
        memories = [ObjectMemory.from_prompt(MemoryObservation(np.array([-1.0]), np.array([float(p)]))) for p in who]
        return Prompted(memories, np.stack([_mask(b) for b in boxes]), np.ones(len(boxes)))

    def propose(self, frame: int, memories: list[ObjectMemory]) -> Proposals:
        scripted = [self.script(frame, int(m.prompt_pointer[0])) for m in memories]
        return Proposals(
            boxes=np.stack([np.asarray(b, float) for b, _ in scripted]),
            affinity=np.stack([np.asarray(a, float) for _, a in scripted]),
        )

    def finish(self, frame: int, proposals: Proposals, chosen: np.ndarray, remember: np.ndarray):
        self.chosen.append(chosen.copy())
        masks = np.stack([_mask(proposals.boxes[i, k]) for i, k in enumerate(chosen)])
        obs = [MemoryObservation(np.array([float(frame)]), np.array([0.0])) if r else None for r in remember]
        return masks, obs


class ScriptedDetector:
    def __init__(self, people_at: Callable[[int], np.ndarray]) -> None:
        self.people_at = people_at
        self.frame = -1

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes = self.people_at(self.frame)
        return boxes, np.full(len(boxes), 0.9)


def _mask(box: np.ndarray) -> np.ndarray:
    m = np.zeros((H, W), bool)
    x1, y1, x2, y2 = np.clip(np.round(box).astype(int), 0, [W, H, W, H])
    m[y1:y2, x1:x2] = True
    return m


def run(engine: ScriptedEngine, detector: ScriptedDetector | None, frames: int, cfg: SegFollowConfig):
    tracker = SegFollowTracker(engine, detector, cfg)
    image = np.zeros((H, W, 3), np.uint8)
    out = []
    for f in range(frames):
        if detector is not None:
            detector.frame = f
        out.append(tracker.step(f, image))
    return tracker, out


def walker(speed: float = 5.0, start: float = 40.0) -> Callable[[int], np.ndarray]:
    return lambda f: box_at(start + speed * f)[None]


def test_selector_picks_the_candidate_the_kalman_prediction_supports_on_tied_affinities():
    people = walker()
    for supported_first in (True, False):

        def script(f: int, p: int, supported_first: bool = supported_first) -> tuple[np.ndarray, np.ndarray]:
            true = people(f)[0]
            if f < 8:
                return np.stack([true, box_at(200.0)]), np.array([0.9, 0.1])
            stale = box_at(true[0] - 60.0)
            pair = [true, stale] if supported_first else [stale, true]
            return np.stack(pair), np.array([0.8, 0.8])

        engine = ScriptedEngine(script, people)
        _, out = run(engine, ScriptedDetector(people), 10, SegFollowConfig(keyframe_interval=100))
        supported = 0 if supported_first else 1
        assert [c[0] for c in engine.chosen[7:]] == [supported, supported]
        assert iou_matrix(out[-1].people[0].box, people(9))[0, 0] > 0.8


def test_gated_update_refuses_low_confidence_frames_and_coasts_on_the_prediction():
    people = walker()
    low = {10, 11, 12}

    def script(f: int, p: int) -> tuple[np.ndarray, np.ndarray]:
        if f in low:  # a confident-looking box far away, but SAM2 itself is unsure (affinity 0.2 < tau)
            return box_at(200.0)[None], np.array([0.2])
        return people(f), np.array([0.9])

    cfg = with_association(
        SegFollowConfig(keyframe_interval=100),
        update=UpdateConfig(tau=0.5, n_min=2),
        gate=GateConfig(mode="fixed", fixed=0.0),
    )
    _, out = run(ScriptedEngine(script, people), ScriptedDetector(people), 16, cfg)
    observed = [fr.people[0].observed for fr in out]
    assert observed[9] and not any(observed[10:13])
    assert not observed[13], "the first reliable frame after a reset has streak 1 < n_min = 2"
    assert observed[14] and observed[15]
    for f in (10, 11, 12):
        cx = (out[f].people[0].box[0] + out[f].people[0].box[2]) / 2
        assert abs(cx - (40.0 + 5.0 * f)) < 3.0, "coasting follows the constant-velocity prediction"
    assert [fr.people[0].track_id for fr in out] == [1] * 16


def test_ema_memory_ignores_unreliable_frames():
    people = walker(speed=0.0)
    unreliable = {4, 5, 6}

    def script(f: int, p: int) -> tuple[np.ndarray, np.ndarray]:
        return people(f), np.array([0.1 if f in unreliable else 0.9])

    memory_after = {}
    engine = ScriptedEngine(script, people)
    tracker = SegFollowTracker(engine, ScriptedDetector(people), SegFollowConfig(keyframe_interval=100))
    image = np.zeros((H, W, 3), np.uint8)
    for f in range(9):
        tracker.detector.frame = f
        tracker.step(f, image)
        memory_after[f] = tracker.memories[1]
    assert memory_after[3].features[0] != memory_after[2].features[0]
    for f in unreliable:
        assert memory_after[f].features[0] == memory_after[3].features[0]
        assert memory_after[f].pointer[0] == memory_after[3].pointer[0]
    assert memory_after[7].features[0] > memory_after[6].features[0], "a reliable frame enters again"
    assert memory_after[8].prompt_features[0] == -1.0, "the prompt frame's memory never changes"


def crossing(f: int) -> np.ndarray:
    """Person 0 walks right, person 1 walks left; they overlap from frame 21 to 27."""
    return np.stack([box_at(60.0 + 2.5 * f), box_at(180.0 - 2.5 * f)])


def occluded(f: int) -> bool:
    a, b = crossing(f)
    return iou_matrix(a, b)[0, 0] > 0.05


def test_ids_stay_stable_through_a_scripted_occlusion():
    reappear = next(f for f in range(21, 40) if not occluded(f))

    def script(f: int, p: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = crossing(f)
        if p == 0 and occluded(f):  # person 0 behind person 1: SAM2 offers 1's mask, a faint sliver of 0
            sliver = box_at((a[0] + a[2]) / 2, w=4.0, h=20.0)
            return np.stack([b, sliver, b]), np.array([0.35, 0.15, 0.3])
        if p == 0 and f < reappear + 4:  # just after: SAM2 is torn between the two, only motion can decide
            return np.stack([b, a, box_at(10.0)]), np.array([0.75, 0.75, 0.2])
        own = a if p == 0 else b
        return np.stack([own, box_at(230.0), box_at(10.0)]), np.array([0.9, 0.2, 0.2])

    def visible(f: int) -> np.ndarray:
        return crossing(f)[1:] if occluded(f) else crossing(f)

    frames = 40
    assert sum(occluded(f) for f in range(frames)) >= 5
    _, out = run(
        ScriptedEngine(script, crossing), ScriptedDetector(visible), frames, SegFollowConfig(keyframe_interval=3)
    )
    assert out[0].born == (1, 2)
    assert all(fr.born == () for fr in out[1:]), "no new id during or after the occlusion"
    for f, fr in enumerate(out):
        by_id = {p.track_id: p for p in fr.people}
        assert set(by_id) == {1, 2}
        assert iou_matrix(by_id[2].box, crossing(f)[1])[0, 0] > 0.5
        assert by_id[1].observed != occluded(f)
        assert iou_matrix(by_id[1].box, crossing(f)[0])[0, 0] > 0.3, f"track 1 lost person 0 at frame {f}"


def test_tracks_end_after_the_coast_limit_and_ids_are_never_reused():
    gone = range(5, 15)
    people = walker(speed=0.0)

    def script(f: int, p: int) -> tuple[np.ndarray, np.ndarray]:
        return people(f), np.array([0.05 if f in gone else 0.9])

    def seen(f: int) -> np.ndarray:
        return np.zeros((0, 4)) if f in gone else people(f)

    cfg = with_association(SegFollowConfig(keyframe_interval=1), max_coast_frames=4)
    tracker, out = run(ScriptedEngine(script, people), ScriptedDetector(seen), 18, cfg)
    assert [p.track_id for p in out[8].people] == [1]
    assert out[9].people == (), "coasted 5 > 4 frames: ended"
    assert out[15].born == (2,), "the person comes back under a new id; id 1 is not reused"
    assert tracker.live_ids == [2]


def test_segfollow_keeps_its_association_defaults():
    # The values SegFollowConfig had before it shared AssociationConfig with TrackerConfig; changing one
    # field through with_association keeps the others.
    def values(a):
        return (a.min_score, a.min_motion, a.birth_score, a.birth_iou, a.max_coast_frames, a.max_tracks)

    assert values(SegFollowConfig().association) == (0.0, 0.1, 0.6, 0.3, 30, 32)
    assert values(with_association(SegFollowConfig(), max_tracks=4).association) == (0.0, 0.1, 0.6, 0.3, 30, 4)
