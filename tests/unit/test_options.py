"""CaptureOptions: one record, validated once, the same flags for ram-core capture and ram_capture."""

from __future__ import annotations

import argparse
import dataclasses
import math

import pytest

from ram_core.commands import capture as capture_command
from ram_core.contract.options import FIELD_NAMES, CaptureOptions, OptionsError, add_arguments, from_args


def test_json_round_trip_keeps_every_field():
    o = CaptureOptions(
        backend="ram",
        start=3,
        end=90,
        max_people=2,
        focal_px=1200.5,
        smpl_model="/m/SMPL_NEUTRAL.npz",
        allow_truncated=True,
        device="cuda:1",
        weights_dir="/w",
    )
    assert CaptureOptions.from_json(o.to_json()) == o
    assert CaptureOptions.from_json("{}") == CaptureOptions()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": -1}, "start frame -1 is negative"),
        ({"start": 5, "end": 5}, "end frame 5 is not after start frame 5"),
        ({"max_people": 0}, "max_people is 0"),
        ({"focal_px": -3.0}, "not a positive number"),
        ({"focal_px": math.nan}, "not a positive number"),
        ({"fov_deg": 180.0}, "field of view 180.0 degrees is not between 0 and 180"),
        ({"fov_deg": 0}, "not between 0 and 180"),
        ({"focal_px": 900.0, "fov_deg": 60.0}, "give the focal length or the field of view, not both"),
        ({"backend": ""}, "backend is empty"),
        ({"start": "3"}, "start is '3'; expected int"),
        ({"start": True}, "start is True; expected int"),
        ({"allow_truncated": 1}, "allow_truncated is 1; expected bool"),
        ({"start": None}, "start must be given"),
    ],
)
def test_bad_values_are_refused_with_their_name(fields, message):
    with pytest.raises(OptionsError, match=message):
        CaptureOptions.from_dict(fields)


def test_unknown_names_and_non_objects_are_refused():
    with pytest.raises(OptionsError, match=r"unknown capture options \['fps'\]"):
        CaptureOptions.from_dict({"fps": 30})
    with pytest.raises(OptionsError, match="not a JSON object"):
        CaptureOptions.from_json("[1, 2]")
    with pytest.raises(OptionsError, match="not JSON"):
        CaptureOptions.from_json("{")


def test_an_integer_focal_length_is_a_number():
    assert CaptureOptions(focal_px=1000).focal_px == 1000


def test_a_field_of_view_is_the_focal_length_across_the_longer_side():
    from ram_core.body.camera import DEFAULT_FOV_DEG

    assert CaptureOptions(fov_deg=90.0).focal_for(1920, 1080) == pytest.approx(960.0)
    assert CaptureOptions(fov_deg=90.0).focal_for(1080, 1920) == pytest.approx(960.0)  # portrait: the height
    # The focal length assumed when none is given has the default field of view: one convention.
    assert CaptureOptions(fov_deg=DEFAULT_FOV_DEG).focal_for(1920, 1080) == pytest.approx(1920.0)
    assert CaptureOptions(focal_px=1400.0).focal_for(1920, 1080) == 1400.0
    assert CaptureOptions().focal_for(1920, 1080) is None


def test_every_option_has_a_flag_and_unset_flags_keep_the_base():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = {a.dest for a in parser._actions if a.dest != "help"}
    assert flags == set(FIELD_NAMES)
    base = CaptureOptions(backend="ram", device="cuda", smpl_model="/m.npz")
    got = from_args(parser.parse_args(["--end", "40", "--focal", "900", "--allow-truncated"]), base)
    assert got == dataclasses.replace(base, end=40, focal_px=900.0, allow_truncated=True)
    assert from_args(parser.parse_args(["--start", "5", "--fov", "70"]), base).fov_deg == 70.0
    assert from_args(parser.parse_args([])) == CaptureOptions()


def test_ram_core_capture_builds_its_options_from_the_same_flags():
    parser = argparse.ArgumentParser()
    capture_command.add_arguments(parser)
    args = parser.parse_args(["v.mp4", "-o", "o.npz", "--max-people", "3", "--device", "cpu", "--smpl", "m.pkl"])
    assert from_args(args) == CaptureOptions(max_people=3, device="cpu", smpl_model="m.pkl")
