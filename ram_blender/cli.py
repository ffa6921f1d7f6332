"""Headless batch: ``blender -b -c ram_capture VIDEO_OR_FOLDER... -o OUT_DIR [--backend lite] [--export fbx,bvh,npz] [--body open|proxy] [--no-ground-plane]
[--retarget TARGET.blend:ARMATURE --map rigify|rigify_def|mixamo|ue5|auto|PRESET.json [--pin-feet]] [--skip-existing | --overwrite]``.

``blender -b -c ram_capture --from-results RESULTS_DIR [-o OUT_DIR] [--export ...]`` captures nothing: it
builds the .blend and the exports from the results files already there (``ram-core batch``'s output), so
GPU machines capture and others build scenes. RESULTS_DIR may also be one results file (``ram-core batch
--export`` builds each video's scene that way).

The capture flags are ``ram-core capture``'s (both come from :class:`~ram_core.contract.options.CaptureOptions`);
those not given come from the add-on's preferences (backend, SMPL model, device, weights folder) or
the defaults. Each video becomes ``OUT_DIR/<stem>.ram.npz`` (the results), ``OUT_DIR/<stem>.blend`` and its exports.
Outputs of an earlier run are never replaced silently (:mod:`ram_core.contract.reruns`): the run is refused
before any capture unless ``--skip-existing`` (do only the videos without outputs) or ``--overwrite`` (redo
them; the earlier files move to ``OUT_DIR/replaced/<date>_<time>/`` as they are replaced).
With ``--retarget`` each person also gets a copy of the character (appended from TARGET.blend) keyed to
follow them (:func:`apply_character`). A failed video is reported and the batch goes on; the exit status is 1 if any failed. The same
:func:`batch_capture` runs from the ``bpy`` module.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bpy

from ram_core.contract import reruns, stopping
from ram_core.contract.batch_files import (
    clashing_names,
    clashing_scenes,
    find_results,
    find_videos,
    make_output_folder,
    no_videos,
    results_path,
    stem_of_results,
)
from ram_core.contract.client import CaptureError, check_output_path
from ram_core.contract.errors import one_line
from ram_core.contract.options import CaptureOptions, OptionsError, add_arguments, from_args
from ram_core.contract.results import load_results

from . import export, preferences, retarget, session
from .capture_job import CaptureJob, CaptureRequest, video_remarks
from .importer.build import BODIES

log = logging.getLogger(__name__)

COMMAND = "ram_capture"
DESCRIPTION = (
    "Capture every person in the videos (files or folders of videos) into OUT_DIR: per video <stem>.ram.npz (the "
    "results), <stem>.blend (one animated armature per person) and the --export files. --from-results captures "
    "nothing and builds the .blend and exports from results files (ram-core batch's). Outputs of an earlier run "
    "are never replaced silently (--skip-existing, --overwrite). Exit status 0, 1 if a video failed, 2 for bad "
    "arguments, 130 after Ctrl-C, 143 after SIGTERM."
)
POLL_SECONDS = 0.05


def capture_one(request: CaptureRequest, report=print, before_save: Callable[[], None] | None = None) -> Path | None:
    """Run one capture to completion on this thread; the results path (None: nobody was found, nothing
    written), or RuntimeError on failure. ``before_save`` runs just before the results are written."""
    job = CaptureJob(request)
    try:
        last = -1.0
        while True:
            status = job.step()
            if status.finished or status.error:
                break
            # Until the worker has done a frame there is no progress to show (not "frame 0/0", nor "frame 0/5"
            # for a file that then turns out not to be a video).
            if status.done and status.total and status.fraction - last >= 0.25:
                last = status.fraction
                report(f"  {Path(request.video).name}: frame {status.done}/{status.total}")
            time.sleep(POLL_SECONDS)
        # A failed capture writes nothing: a batch rerun must not replace a good earlier results file
        # with a partial one (the operator, by contrast, imports what arrived).
        path = None if status.error else job.finish(before_save)[0]
    finally:
        job.close()
    if status.error:
        raise RuntimeError(status.error.strip().splitlines()[-1] if status.error.strip() else "worker failed")
    return path


def save_blend(path: Path) -> None:
    """Save the open file as ``path`` without leaving a ``.blend1`` backup beside it (batch output stays clean)."""
    prefs = bpy.context.preferences.filepaths
    versions = prefs.save_version
    prefs.save_version = 0
    try:
        bpy.ops.wm.save_as_mainfile(filepath=str(path))
    finally:
        prefs.save_version = versions


@dataclass(frozen=True)
class Character:
    """The artist's character for ``--retarget``: an armature in a .blend, the bone map to use
    (``rigify``, ``rigify_def``, ``mixamo``, ``ue5``, ``auto`` or a preset file) and foot pinning."""

    path: Path
    armature: str
    bone_map: str = "auto"
    pin_feet: bool = False

    @classmethod
    def parse(cls, spec: str, bone_map: str = "auto", pin_feet: bool = False) -> Character:
        """From ``TARGET.blend:ARMATURE`` (ValueError, one line, if it is not that)."""
        path, sep, name = spec.rpartition(":")
        if not sep or not name or not path.lower().endswith(".blend"):
            raise ValueError(f"--retarget wants TARGET.blend:ARMATURE, not {spec!r}")
        return cls(Path(path), name, bone_map, pin_feet)

    def check(self) -> None:
        """ValueError (one line) if the file or the object in it is not there, the object is not an armature,
        or the bone map does not fit it (an unknown map, a bad preset file, a Rigify map on another rig, no
        hips bone): found before any capture rather than after each."""
        if not self.path.is_file():
            raise ValueError(f"{self.path}: no such file (--retarget)")
        with bpy.data.libraries.load(str(self.path)) as (src, dst):
            if self.armature not in src.objects:
                raise ValueError(f"{self.path.name} has no object {self.armature!r} (--retarget)")
            dst.objects = [self.armature]
        rig = dst.objects[0]
        try:
            if rig is None or rig.type != "ARMATURE":
                kind = "nothing" if rig is None else f"a {rig.type.lower()}"
                raise ValueError(f"{self.armature} in {self.path.name} is {kind}, not an armature (--retarget)")
            try:
                mapping = retarget.map_for(rig, self.bone_map)[0]
            except ValueError as e:  # named as in its file, not as the copy ("Character.001") looked at here
                raise ValueError(str(e).replace(rig.name, self.armature)) from None
            if "pelvis" not in mapping:
                raise ValueError(f"--map {self.bone_map} finds no hips bone in {self.armature}: give another map")
        finally:
            if rig is not None:  # only a look: apply_character appends its own copies (its data, now
                bpy.data.objects.remove(rig)  # without users, is not saved)


def character_of(args: argparse.Namespace) -> Character | None:
    return Character.parse(args.retarget, args.map, args.pin_feet) if args.retarget else None


def apply_character(
    context: bpy.types.Context, people: list[bpy.types.Object], character: Character
) -> list[bpy.types.Object]:
    """Append a copy of ``character``'s armature per person in ``people`` and retarget that person onto
    it (:func:`retarget.retarget_preset`); the copies, each named ``"<armature> <person>"``."""
    made = []
    for person in people:
        with bpy.data.libraries.load(str(character.path)) as (_src, dst):
            dst.objects = [character.armature]
        rig = dst.objects[0]
        if rig is None or rig.type != "ARMATURE":
            raise ValueError(f"{character.armature} in {character.path.name} is not an armature")
        rig.name = f"{character.armature} {person.name}"
        context.scene.collection.objects.link(rig)
        retarget.retarget_preset(context.scene, person, rig, character.bone_map, pin_feet=character.pin_feet)
        made.append(rig)
    return made


def process_video(
    video: Path,
    out_dir: Path,
    python: str,
    options: CaptureOptions,
    exports: tuple[str, ...],
    body: str = "",
    ground_plane: bool | None = None,
    character: Character | None = None,
    replaced: Path | None = None,
) -> list[Path]:
    """Capture ``video``, build a fresh scene, save ``<stem>.blend`` and the exports; the paths written
    (none when nobody was found in it: a video without people is not a failure, as in ``ram-core capture``).
    With ``replaced`` (a folder), the video's earlier outputs move there just before the new results are
    written. A capture, scene or export that fails or is stopped (Ctrl-C) leaves none of this run's files
    for the video and its earlier ones where they were (:func:`reruns.put_back`)."""
    results = results_path(out_dir, video)
    changing = []

    def move_earlier() -> None:
        changing.append(True)  # from here on the video's files in out_dir are this run's
        if replaced is not None:
            reruns.set_aside(reruns.video_outputs(out_dir, video.stem), replaced)

    try:
        if capture_one(CaptureRequest(python, str(video), str(results), options), before_save=move_earlier) is None:
            return []
        return [results, *build_scene(results, out_dir, exports, body, ground_plane, character)]
    except BaseException:
        if changing:
            reruns.put_back(out_dir, video.stem, replaced, reruns.video_outputs)
        raise


def build_scene(
    results: Path,
    out_dir: Path,
    exports: tuple[str, ...],
    body: str = "",
    ground_plane: bool | None = None,
    character: Character | None = None,
    replaced: Path | None = None,
) -> list[Path]:
    """A fresh scene from the results file ``results`` (each person's ``body``: empty for the preference's;
    ``ground_plane``: None for the preference's; a copy of ``character`` retargeted onto each person),
    saved as ``out_dir/<stem>.blend``, and its exports; the paths written. With ``replaced`` (a folder), an
    earlier scene of ``stem`` moves there first, with a copy of ``results`` beside it. A build or export that
    fails or is stopped leaves no part of the new scene and puts the earlier one back."""
    stem = stem_of_results(results)
    load_results(results)  # a file that is not results fails here, before an empty .blend is written
    if replaced is not None:
        reruns.set_aside(reruns.scene_outputs(out_dir, stem), replaced, keep_copy=results)
    try:
        return _write_scene(results, out_dir / f"{stem}.blend", exports, body, ground_plane, character)
    except BaseException:  # Ctrl-C among the exports left some people's files: a rerun would skip the video
        reruns.put_back(out_dir, stem, replaced, reruns.scene_outputs, copy=results)
        raise


def _write_scene(
    results: Path,
    blend: Path,
    exports: tuple[str, ...],
    body: str,
    ground_plane: bool | None,
    character: Character | None,
) -> list[Path]:
    """:func:`build_scene`'s work once the folder is ready: the scene saved as ``blend`` and its exports beside it."""
    stem = stem_of_results(results)
    out_dir = blend.parent
    fresh_scene()
    context = bpy.context
    objects = session.import_results(
        context, str(results), session.build_options(context, body=body, ground_plane=ground_plane)
    )
    # Relative to the .blend, so the two move together; saved once (each save prints Blender's "Saved as").
    context.scene.ram.results_path = bpy.path.relpath(str(results.resolve()), start=str(blend.resolve().parent))
    if character is not None:
        apply_character(context, [o for o in objects if o.type == "ARMATURE"], character)
    save_blend(blend)
    written = [blend]
    if exports:
        written += export.export_people(objects, session.edited(context).results, out_dir, stem, exports)
    return written


def fresh_scene() -> None:
    """An empty file whose render (F12) shows the people: Blender's empty file renders black (EEVEE, no world,
    no light). Workbench, as the demo's preview: each person in their colour, shadows on the ground plane."""
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    scene.world = bpy.data.worlds.new("World")  # Blender's default grey background
    scene.render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "MATERIAL"
    shading.show_shadows = True


def _earlier_outputs(
    stems: list[str], out: Path, existing: str, outputs: Callable[[Path, str], list[Path]], what: str, report
) -> tuple[set[str], Path | None]:
    """Apply the rerun rule (:mod:`ram_core.contract.reruns`) to ``stems`` whose outputs in ``out`` are
    ``outputs(out, stem)``: the stems to skip and the folder for replaced files (``--overwrite``); ValueError
    (one line) when earlier outputs are there and neither flag was given."""
    earlier = {stem: found for stem in stems if (found := outputs(out, stem))}
    if not earlier:
        return set(), None
    if existing == reruns.REFUSE:
        raise ValueError(reruns.refusal(earlier, len(stems), what))
    if existing == reruns.SKIP:
        report(
            f"ram_capture: {len(earlier)} of {len(stems)} {what} skipped: their outputs from an earlier run are kept (--skip-existing)"
        )
        return set(earlier), None
    return set(), reruns.replaced_folder(out)


def _say_replaced(replaced: Path | None, report) -> None:
    if replaced is not None and replaced.is_dir():
        report(f"ram_capture: the earlier files that were replaced are kept in {replaced}")


def _output_folder(out_dir: str) -> Path:
    out = make_output_folder(Path(out_dir))
    check_output_path(out / "batch.ram.npz")  # a folder we cannot write to fails now, not after the work
    return out


def _first_missing(folder: Path) -> Path | None:
    """The topmost folder of ``folder``'s path that does not exist yet (what ``mkdir(parents=True)`` makes).
    The path is resolved: in ``new/../mine`` the folder is ``mine``, not one below ``new``."""
    missing = None
    for path in (folder.resolve(), *folder.resolve().parents):
        if path.exists():
            break
        missing = path
    return missing


def _drop_if_empty(out: Path, made: Path | None) -> None:
    """The folders this run made for ``out`` (``made``: the topmost) removed again if nothing was written in
    them (every video failed or held nobody, or the run was stopped before one was done): no trace is left."""
    if made is None:
        return
    folder = out.resolve()
    if folder != made and made not in folder.parents:  # moved meanwhile (a link): never walk above what was made
        return
    while folder.is_dir() and not any(folder.iterdir()):
        try:
            folder.rmdir()
        except OSError:  # something was written there meanwhile: it stays, with the folders above it
            return
        if folder == made:
            break
        folder = folder.parent


def batch_capture(
    inputs: list[str],
    out_dir: str,
    options: CaptureOptions | None = None,
    exports: tuple[str, ...] = (),
    python: str | None = None,
    report=print,
    body: str = "",
    ground_plane: bool | None = None,
    character: Character | None = None,
    existing: str = reruns.REFUSE,
    stopped: Callable[[], bool] = lambda: False,
) -> int:
    """Capture every video in ``inputs`` into ``out_dir`` with ``options`` (None: the preferences'),
    each person with ``body`` (``"open"`` or ``"proxy"``; empty: the preference's), a ground plane under
    solved scenes by ``ground_plane`` (None: the preference's) and, given a ``character``, a copy of it
    retargeted onto each person; 0 if all succeeded, else 1 (the rest still done). Videos with outputs
    of an earlier run: ``existing`` (:mod:`ram_core.contract.reruns`: refuse, skip or overwrite)."""
    export.check_formats(exports)  # before any capture
    if character is not None:
        character.check()  # a missing file, armature or bad preset fails now, not after the captures
    s = preferences.settings()
    options = options or preferences.capture_options(s)
    python = python or preferences.worker_python(s)
    videos = find_videos(inputs)
    if not videos:
        _say_failures([no_videos(inputs)])
        return 1
    clash = clashing_names(videos, exports=bool(exports))
    if clash:  # the second would write over the first's results, .blend and exports
        raise ValueError(clash)
    skip, replaced = _earlier_outputs(
        [v.stem for v in videos], Path(out_dir), existing, reruns.video_outputs, "videos", report
    )
    videos = [v for v in videos if v.stem not in skip]
    if not videos:
        return 0
    made = _first_missing(Path(out_dir))
    out = _output_folder(out_dir)

    def capture(video: Path) -> str:
        if not video.is_file():
            raise FileNotFoundError(f"{video}: no such file")  # as the other inputs: PATH: reason
        written = process_video(video, out, python, options, exports, body, ground_plane, character, replaced)
        done = f"-> {written[1]}" if written else "but nobody was found in it; nothing written"
        remarks = video_remarks(load_results(written[0]).meta) if written else ""
        return done + (f" ({remarks})" if remarks else "")

    try:
        failed = _each(videos, capture, report, stopped)
    finally:
        _drop_if_empty(out, made)
    report(f"ram_capture: {len(videos) - len(failed)} of {len(videos)} videos done")
    _say_replaced(replaced, report)
    _say_failures(failed)
    return 1 if failed else 0


def _each(paths: list[Path], work: Callable[[Path], str], report, stopped: Callable[[], bool]) -> list[str]:
    """Run ``work`` on each path in turn, one report line each (``ok in N s`` and what ``work`` returned, or
    ``FAILED`` and why); one that fails does not stop the others, a Ctrl-C (``stopped()``) does. Why each
    failed, one line each, naming it."""
    failed = []
    for i, path in enumerate(paths, 1):
        t0 = time.perf_counter()
        try:
            done = work(path)
            report(f"[{i}/{len(paths)}] {path.name}: ok in {time.perf_counter() - t0:.1f} s {done}")
        except Exception as e:  # one bad input must not stop the batch
            if stopped():  # Ctrl-C inside an operator (the FBX exporter) reaches us as its RuntimeError
                raise KeyboardInterrupt from None
            log.debug("%s failed", path, exc_info=True)
            report(f"[{i}/{len(paths)}] {path.name}: FAILED: {e}")
            why = one_line(e)
            failed.append(why if str(path) in why or path.name in why else f"{path}: {why}")
    return failed


def _say_failures(failed: list[str]) -> None:
    """Each failure again on stderr, as ``ram-core batch`` does: a pipeline's ``2>errors.log`` holds them all."""
    for why in failed:
        print(f"{COMMAND}: error: {why}", file=sys.stderr)


def build_from_results(
    results_dir: str,
    out_dir: str | None = None,
    exports: tuple[str, ...] = (),
    report=print,
    body: str = "",
    ground_plane: bool | None = None,
    character: Character | None = None,
    existing: str = reruns.REFUSE,
    stopped: Callable[[], bool] = lambda: False,
) -> int:
    """A .blend (and ``exports``) for every results file in ``results_dir`` (or for the one results file
    it names), into ``out_dir`` (default: the results' folder); 0 if all were built, else 1 (the rest still
    built). Results files whose scene is there from an earlier run: ``existing`` (refuse, skip or overwrite)."""
    export.check_formats(exports)
    if character is not None:
        character.check()
    given = Path(results_dir)
    found = [given] if given.is_file() else find_results(given)
    if not found:
        why = "no such file or folder" if not given.exists() else "no results files (*.ram.npz) in it"
        _say_failures([f"{results_dir}: {why}"])
        return 1
    clash = clashing_scenes(found, exports=bool(exports))
    if clash:  # the second would write over the first's .blend or exports
        raise ValueError(clash)
    folder = Path(out_dir or (given.parent if given.is_file() else given))
    stems = {stem_of_results(r): r for r in found}
    skip, replaced = _earlier_outputs(list(stems), folder, existing, reruns.scene_outputs, "scenes", report)
    found = [r for stem, r in stems.items() if stem not in skip]
    if not found:
        return 0
    made = _first_missing(folder)
    out = _output_folder(str(folder))

    def build(results: Path) -> str:
        return f"-> {build_scene(results, out, exports, body, ground_plane, character, replaced)[0]}"

    try:
        failed = _each(found, build, report, stopped)
    finally:
        _drop_if_empty(out, made)
    report(f"ram_capture: {len(found) - len(failed)} of {len(found)} scenes built")
    _say_replaced(replaced, report)
    _say_failures(failed)
    return 1 if failed else 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"blender -b -c {COMMAND}", description=DESCRIPTION)
    parser.add_argument("inputs", nargs="*", metavar="VIDEO_OR_FOLDER", help="video files or folders of videos")
    parser.add_argument("-o", "--out", default=None, metavar="OUT_DIR", help="output folder (required when capturing)")
    parser.add_argument(
        "--from-results",
        default=None,
        metavar="RESULTS",
        help="capture nothing: build the scenes from the *.ram.npz files in this folder (ram-core batch's output), "
        "or from this one results file",
    )
    parser.add_argument("--export", default="", metavar="FORMATS", help="comma-separated formats: fbx,bvh,npz")
    parser.add_argument("--python", default=None, help="worker Python (default: preferences / $RAM_WORKER_PYTHON)")
    parser.add_argument(
        "--body", choices=BODIES, default="", help="each person's body without an SMPL model (default: preferences)"
    )
    parser.add_argument(
        "--ground-plane",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a floor plane (a Cycles shadow catcher) under solved scenes (default: preferences, on)",
    )
    parser.add_argument("--retarget", default=None, metavar="TARGET.blend:ARMATURE", help="character for every person")
    parser.add_argument(
        "--map",
        default="auto",
        help="bone map for --retarget: rigify, rigify_def, mixamo, ue5, auto (names) or PRESET.json",
    )
    parser.add_argument("--pin-feet", action="store_true", help="--retarget: hold feet still during contact")
    reruns.add_arguments(parser)
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Entry point for ``register_cli_command``: the exit code (``--help`` 0, as Blender asks of a
    command, and a usage error 2, both without a traceback: Blender does not catch ``SystemExit``; Ctrl-C
    130 and SIGTERM 143, one line: the video in progress leaves no file, those done before stay)."""
    stopped_by: list[int] = []

    def on_stop(signum, frame) -> None:
        stopped_by.append(signum)
        raise KeyboardInterrupt

    try:
        with stopping.on_stop(on_stop):
            return _run(argv, lambda: bool(stopped_by))
    except KeyboardInterrupt:
        signum = stopped_by[0] if stopped_by else signal.SIGINT
        print(f"{COMMAND}: stopped by {stopping.said(signum)}; the videos done before it are kept", file=sys.stderr)
        return stopping.exit_code(signum)


def _run(argv: list[str], stopped: Callable[[], bool]) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    exports = tuple(f for f in args.export.split(",") if f)
    if args.from_results is not None:
        if args.inputs:
            print("ram_capture: give videos or --from-results, not both", file=sys.stderr)
            return 2
        try:
            return build_from_results(
                args.from_results,
                args.out,
                exports,
                body=args.body,
                ground_plane=args.ground_plane,
                character=character_of(args),
                existing=args.existing,
                stopped=stopped,
            )
        except (OSError, ValueError) as e:
            print(f"{COMMAND}: {one_line(e)}", file=sys.stderr)
            return 2
    if not args.inputs or args.out is None:
        print(
            "ram_capture: give video files or folders and -o OUT_DIR (or --from-results RESULTS_DIR)", file=sys.stderr
        )
        return 2
    try:
        options = from_args(args, preferences.capture_options(preferences.settings()))
        return batch_capture(
            args.inputs,
            args.out,
            options,
            exports,
            args.python,
            body=args.body,
            ground_plane=args.ground_plane,
            character=character_of(args),
            existing=args.existing,
            stopped=stopped,
        )
    except (preferences.NoWorkerPython, OptionsError, CaptureError, OSError, ValueError) as e:
        print(f"{COMMAND}: {one_line(e)}", file=sys.stderr)
        return 2
