"""Capture from Video: a file browser with options, then a modal operator that drains the worker."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import bpy
from bpy_extras.io_utils import ImportHelper

from ram_core.contract.client import CaptureError, check_output_path
from ram_core.contract.options import CaptureOptions, OptionsError

from .. import preferences, session, state
from ..capture_job import CaptureJob, CaptureRequest, video_remarks
from ..headless import run_to_end
from ..importer.build import BODY_ITEMS

log = logging.getLogger(__name__)

VIDEO_GLOB = "*.mp4;*.avi;*.mov;*.mkv;*.webm;*.m4v;*.mpg;*.mpeg"
# The dialog's properties -> the CaptureOptions fields they set. The other fields come from the
# preferences (PREFERENCE_OPTIONS); a test checks that together they name every option.
OPTION_PROPERTIES = {
    "backend": "backend",
    "frame_start": "start",
    "frame_end": "end",
    "max_people": "max_people",
    "focal_px": "focal_px",
    "fov_deg": "fov_deg",
    "allow_truncated": "allow_truncated",
}
PREFERENCE_OPTIONS = ("smpl_model", "device", "weights_dir")
# The results files of the captures still running: written only when each ends, so a capture started
# meanwhile (in another scene) must not pick the same name.
WRITING: set[Path] = set()


def results_path_for(video: str, output_dir: str) -> Path:
    """``<dir>/<video stem>.ram.npz`` in ``output_dir``, else beside the .blend, else beside the video;
    ``<stem>-2.ram.npz`` and so on when that exists or a running capture will write it, so an earlier
    capture's file is never replaced."""
    folder = output_dir or (str(Path(bpy.data.filepath).parent) if bpy.data.filepath else str(Path(video).parent))
    base = Path(bpy.path.abspath(folder))
    stem = Path(video).stem
    path = base / f"{stem}.ram.npz"
    n = 2
    while path.exists() or path in WRITING:
        path = base / f"{stem}-{n}.ram.npz"
        n += 1
    return path


def finish_message(
    error: str | None, path: Path | None, people: int, progress: tuple[int, int], stopped: bool, remarks: str = ""
) -> tuple[str, str]:
    """The report level and line for a capture that ended: failed, empty, stopped early (Esc, Ctrl+C) or complete.

    ``progress`` is (frames done, frames in the range) as the worker last said; ``remarks``
    (:func:`video_remarks`) make a complete capture's report a warning that says them.
    """
    done, total = progress
    early = f"stopped early after {done} of {total} frames" if stopped else ""
    if error:
        kept = f"; kept {path.name}" if path else ""
        return "ERROR", f"RAM capture: {error.strip().splitlines()[-1]}{kept}"
    if path is None:
        return "WARNING", f"RAM capture {early}: nobody was captured" if early else "RAM capture: nobody was captured"
    if early:
        return "WARNING", f"RAM capture {early}; kept {people} people in {path}"
    if remarks:
        return "WARNING", f"RAM capture: {people} people, results in {path} ({remarks})"
    return "INFO", f"RAM capture: {people} people, results in {path}"


class RAM_OT_capture_video(bpy.types.Operator, ImportHelper):
    """Capture everyone in a video as animated armatures (runs in the background; Esc cancels)"""

    bl_idname = "ram.capture_video"
    bl_label = "Capture from Video"
    # UNDO: the modal operator's FINISHED (after the import) is one undo step. No REGISTER: a redo panel
    # would run the whole capture again for any option changed there.
    bl_options = {"UNDO"}

    filter_glob: bpy.props.StringProperty(default=VIDEO_GLOB, options={"HIDDEN"})
    frame_start: bpy.props.IntProperty(name="First frame", description="First video frame (0-based)", min=0)
    frame_end: bpy.props.IntProperty(
        name="End frame", description="Stop before this video frame (0-based; 0: at the video's end)", min=0
    )
    max_people: bpy.props.IntProperty(name="Max people", description="0: no limit", min=0, default=0)
    focal_px: bpy.props.FloatProperty(
        name="Focal length (px)",
        description="The camera's focal length in pixels, if known (0: not known; give this or the field of view)",
        min=0.0,
        default=0.0,
    )
    fov_deg: bpy.props.FloatProperty(
        name="Field of view (°)",
        description="The camera's field of view across the frame's longer side, if known (0: not known; "
        "with neither, about 53° is assumed)",
        min=0.0,
        max=179.0,
        default=0.0,
    )
    allow_truncated: bpy.props.BoolProperty(
        name="Keep a damaged video's frames",
        description="If the video ends before its header says, import the frames read instead of failing",
        default=False,
    )
    backend: bpy.props.EnumProperty(name="Backend", items=preferences.BACKEND_ITEMS)
    body: bpy.props.EnumProperty(
        name="Body", description="The body each person gets without an SMPL model", items=BODY_ITEMS
    )
    ground_plane: bpy.props.BoolProperty(
        name="Ground plane",
        description="Add a floor plane at z = 0 (a Cycles shadow catcher) when the capture has a solved scene",
        default=True,
    )
    scene_camera: bpy.props.BoolProperty(
        name="Use as Scene Camera",
        description="Render (F12) from the capture camera even if the scene has a camera of its own (which stays "
        "in the scene); off: only a scene without a camera gets it",
        default=False,
    )
    output_dir: bpy.props.StringProperty(
        name="Results folder",
        description="Where the results file goes (empty: beside the .blend, or beside the video in an unsaved file)",
        subtype="DIR_PATH",
    )

    _job: CaptureJob | None = None
    _timer = None
    _progress: tuple[int, int] = (0, 0)
    _scene_uid: int = 0

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return not context.scene.ram.capture_running

    def capture_options(self, base: CaptureOptions) -> CaptureOptions:
        """``base`` (the preferences') with what this dialog sets; 0 means "not given" for the numbers.

        Not named ``options``: on an operator that name is Blender's ``Operator.options``, hiding the method.
        """
        given = {option: getattr(self, prop) for prop, option in OPTION_PROPERTIES.items()}
        for name in ("end", "max_people", "focal_px", "fov_deg"):
            given[name] = given[name] or None
        return replace(base, **given)

    def draw(self, context: bpy.types.Context) -> None:
        """The file browser's side panel: the options grouped, the camera's two ways side by side."""
        layout = self.layout
        col = layout.column(align=True)
        col.label(text="Video frames (0-based)")
        col.prop(self, "frame_start")
        col.prop(self, "frame_end")
        layout.prop(self, "max_people")
        col = layout.column(align=True)
        col.label(text="Camera, if known (one of)")
        col.prop(self, "focal_px")
        col.prop(self, "fov_deg")
        layout.prop(self, "allow_truncated")
        layout.prop(self, "backend")
        layout.prop(self, "body")
        layout.prop(self, "ground_plane")
        layout.prop(self, "scene_camera")
        layout.prop(self, "output_dir")

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.backend = preferences.settings(context).backend
        self.body = preferences.settings(context).body
        self.ground_plane = preferences.settings(context).ground_plane
        return ImportHelper.invoke(self, context, event)

    def execute(self, context: bpy.types.Context) -> set[str]:
        s = preferences.settings(context)
        try:
            out_path = str(results_path_for(self.filepath, self.output_dir))
            try:
                check_output_path(out_path)
            except CaptureError as e:
                # With no Results folder an unsaved file's results go beside the video, maybe on a read-only share.
                unsaved = not self.output_dir and not bpy.data.filepath
                raise CaptureError(
                    f"{e} (save the .blend first, or choose a Results folder)" if unsaved else str(e)
                ) from None
            request = CaptureRequest(
                python=preferences.worker_python(s),
                video=self.filepath,
                out_path=out_path,
                options=self.capture_options(preferences.capture_options(s)),
            )
            self._job = CaptureJob(request)
            WRITING.add(Path(request.out_path))
        except (preferences.NoWorkerPython, CaptureError, OptionsError, OSError, ValueError) as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self._scene_uid = context.scene.session_uid
        state.CAPTURING.add(self._scene_uid)
        state.sync_capture_flags()
        if bpy.app.background:  # no event loop runs a modal operator: capture here (Ctrl+C stops)
            return self._run_here(context)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        self._status(context, f"RAM: capturing {Path(self.filepath).name} (Esc to stop)")
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        job = self._job
        assert job is not None  # set in invoke, cleared only by _end, after which Blender calls no more
        if event.type == "ESC" and event.value == "PRESS":
            job.cancel()
            self._status(context, "RAM: stopping; importing what was captured")
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            status = job.step()
        except Exception as e:  # a broken pipe or a malformed message: end the capture, keep Blender
            log.exception("capture failed")
            return self._end(context, f"capture failed: {e}")
        self._progress = (status.done, status.total)
        pct = 100.0 * status.fraction
        context.window_manager.progress_update(pct)
        context.scene.ram.capture_progress = pct
        self._status(context, f"RAM: frame {status.done}/{status.total}  (Esc to stop)")
        if status.finished or status.error:
            return self._end(context, status.error)
        return {"RUNNING_MODAL"}

    def _run_here(self, context: bpy.types.Context) -> set[str]:
        job = self._job
        assert job is not None
        try:
            status = run_to_end(job, lambda status: status.finished or status.error is not None)
        except Exception as e:  # as in modal: a broken pipe or a malformed message ends the capture
            log.exception("capture failed")
            return self._end(context, f"capture failed: {e}")
        self._progress = (status.done, status.total)
        return self._end(context, status.error)

    def cancel(self, context: bpy.types.Context) -> None:
        if self._job is not None:
            self._job.cancel()
            self._end(context, None)

    def _end(self, context: bpy.types.Context, error: str | None) -> set[str]:
        wm = context.window_manager
        job = self._job
        assert job is not None
        remarks = ""
        try:
            path, results = job.finish()
            remarks = video_remarks(results.meta if results is not None else None)
            if path is not None:
                options = session.build_options(
                    context, body=self.body, ground_plane=self.ground_plane, scene_camera=self.scene_camera
                )
                session.import_results(context, str(path), options)
        except (CaptureError, *session.DOMAIN_ERRORS) as e:  # CaptureError: a damaged video not allowed
            error = error or str(e)
            path = None
        finally:
            job.close()
            WRITING.discard(Path(job.request.out_path))
            self._job = None
            if self._timer is not None:
                wm.event_timer_remove(self._timer)
                self._timer = None
                wm.progress_end()
            state.CAPTURING.discard(self._scene_uid)
            state.sync_capture_flags()
            self._status(context, None)
        level, text = finish_message(error, path, len(context.scene.ram.tracks), self._progress, job.cancelled, remarks)
        self.report({level}, text)
        for note in session.take_notes():
            self.report({"WARNING"}, note)
        return {"CANCELLED"} if path is None else {"FINISHED"}

    @staticmethod
    def _status(context: bpy.types.Context, text: str | None) -> None:
        context.scene.ram.capture_status = text or ""
        if context.workspace is not None:
            context.workspace.status_text_set(text)
