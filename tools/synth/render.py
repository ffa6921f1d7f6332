"""The bpy side of the generator: a scene (floor, light, camera, people, occluders), a colour render
and an ID render per frame, and H.264 encoding through Blender's own FFmpeg (the video sequencer).

World frame: Blender's, Z up, floor z=0, metres (the generator's world frame is the same).
Only this module imports bpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
import mathutils
import numpy as np

# ID colours: pure channel combinations survive PNG and the Standard view transform exactly.
ID_COLOURS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]], float)
OCCLUDER_ID = len(ID_COLOURS) - 1  # white: every occluder; people take the first colours
PARTS = ("skin", "hair", "shirt", "trousers", "shoes")


@dataclass(frozen=True)
class RenderSettings:
    """Cycles on the CPU: samples for the colour pass; the ID pass always uses 1 sample and no filter."""

    samples: int = 4
    denoise: bool = False
    threads: int = 0  # 0: all cores


def _use_nodes(block) -> None:
    """Node trees are always on from Blender 5.0 (the flag is deprecated there); 4.2 needs it set."""
    if bpy.app.version < (5, 0, 0):
        block.use_nodes = True


def _principled(name: str, colour: tuple[float, float, float], roughness: float = 0.8) -> bpy.types.Material:
    m = bpy.data.materials.new(name)
    _use_nodes(m)
    bsdf = m.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (*colour, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    return m


def _emission(name: str, colour: np.ndarray) -> bpy.types.Material:
    m = bpy.data.materials.new(name)
    _use_nodes(m)
    nt = m.node_tree
    nt.nodes.clear()
    em = nt.nodes.new("ShaderNodeEmission")
    em.inputs["Color"].default_value = (*colour, 1.0)
    em.inputs["Strength"].default_value = 1.0
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    nt.links.new(em.outputs[0], out.inputs[0])
    return m


def _floor_material(colours: tuple[tuple[float, float, float], tuple[float, float, float]], tile: float):
    m = bpy.data.materials.new("floor")
    _use_nodes(m)
    nt = m.node_tree
    bsdf = nt.nodes.get("Principled BSDF")
    bsdf.inputs["Roughness"].default_value = 0.9
    tex = nt.nodes.new("ShaderNodeTexChecker")
    tex.inputs["Color1"].default_value = (*colours[0], 1)
    tex.inputs["Color2"].default_value = (*colours[1], 1)
    tex.inputs["Scale"].default_value = 1.0 / tile
    coord = nt.nodes.new("ShaderNodeTexCoord")
    nt.links.new(coord.outputs["Object"], tex.inputs["Vector"])
    nt.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    return m


class Scene:
    """The bpy scene of one clip; ``set_vertices`` then ``render`` per frame."""

    def __init__(
        self,
        width: int,
        height: int,
        world_from_cv: np.ndarray,
        focal_px: float,
        settings: RenderSettings,
        floor: dict,
        background: tuple[float, float, float],
    ):
        bpy.ops.wm.read_homefile(use_empty=True)
        sc = bpy.context.scene
        self.scene = sc
        self.settings = settings
        sc.render.engine = "CYCLES"
        sc.cycles.device = "CPU"
        sc.render.resolution_x, sc.render.resolution_y = width, height
        sc.render.resolution_percentage = 100
        sc.render.image_settings.file_format = "PNG"
        sc.render.threads_mode = "FIXED" if settings.threads else "AUTO"
        if settings.threads:
            sc.render.threads = settings.threads
        sc.view_settings.view_transform = "Standard"
        world = bpy.data.worlds.new("world")
        sc.world = world
        _use_nodes(world)
        # the background is seen by camera rays only; the light comes from two suns (direct light only,
        # no bounces): clean at a few samples, which is what a 2-core CPU can afford per frame
        nt = world.node_tree
        bg = nt.nodes.get("Background")
        path = nt.nodes.new("ShaderNodeLightPath")
        mix = nt.nodes.new("ShaderNodeMixShader")
        dark = nt.nodes.new("ShaderNodeBackground")
        dark.inputs["Strength"].default_value = 0.0
        out = nt.nodes.get("World Output")
        nt.links.new(path.outputs["Is Camera Ray"], mix.inputs[0])
        nt.links.new(dark.outputs[0], mix.inputs[1])
        nt.links.new(bg.outputs[0], mix.inputs[2])
        nt.links.new(mix.outputs[0], out.inputs["Surface"])
        self.background = background
        # camera: Blender's looks down its local -Z with +Y up; OpenCV's looks down +Z with +Y down
        cam_data = bpy.data.cameras.new("camera")
        cam_data.sensor_fit = "HORIZONTAL"
        cam_data.sensor_width = 36.0
        cam_data.lens = focal_px * 36.0 / width
        cam_data.clip_start, cam_data.clip_end = 0.05, 200.0
        cam = bpy.data.objects.new("camera", cam_data)
        sc.collection.objects.link(cam)
        m = np.eye(4)
        m[:3, :3] = world_from_cv[:3, :3] @ np.diag([1.0, -1.0, -1.0])
        m[:3, 3] = world_from_cv[:3, 3]
        cam.matrix_world = mathutils.Matrix(m.tolist())
        sc.camera = cam
        for name, energy, angle, euler in (
            ("sun", 3.5, 0.05, (0.7, 0.2, 0.9)),
            ("fill", 1.2, 0.05, (-0.9, 0.0, 2.6)),
            ("sky", 0.8, 0.05, (0.0, 0.0, 0.0)),
        ):
            sun = bpy.data.objects.new(name, bpy.data.lights.new(name, "SUN"))
            sun.data.energy, sun.data.angle = energy, angle
            sun.data.use_shadow = name == "sun"
            sun.rotation_euler = euler
            sc.collection.objects.link(sun)
        bpy.ops.mesh.primitive_plane_add(size=float(floor.get("size", 80.0)))
        self.floor = bpy.context.active_object
        self.floor.data.materials.append(
            _floor_material(
                (tuple(floor.get("colour1", (0.55, 0.52, 0.47))), tuple(floor.get("colour2", (0.32, 0.3, 0.28)))),
                float(floor.get("tile", 1.0)),
            )
        )
        self.people: list[bpy.types.Object] = []
        self.occluders: list[bpy.types.Object] = []
        self._colour_mats: dict[str, list[bpy.types.Material]] = {}
        self._id_mats: dict[str, bpy.types.Material] = {}
        self._black = _emission("id_black", np.zeros(3))

    def add_person(
        self,
        index: int,
        vertices: np.ndarray,
        faces: np.ndarray,
        face_part: np.ndarray,
        colours: dict[str, tuple[float, float, float]],
    ) -> None:
        """A mesh object for person ``index``: ``faces`` ``(F, 3)``, ``face_part`` ``(F,)`` index into PARTS."""
        me = bpy.data.meshes.new(f"person{index}")
        me.from_pydata(vertices.tolist(), [], faces.tolist())
        for part in PARTS:
            me.materials.append(_principled(f"p{index}_{part}", tuple(colours[part]), 0.6 if part == "hair" else 0.85))
        me.polygons.foreach_set("material_index", face_part.astype(np.int32))
        me.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
        me.update()
        ob = bpy.data.objects.new(f"person{index}", me)
        self.scene.collection.objects.link(ob)
        self.people.append(ob)
        self._colour_mats[ob.name] = list(me.materials)
        self._id_mats[ob.name] = _emission(f"id{index}", ID_COLOURS[index])

    def add_box(self, centre: tuple[float, float], size: tuple[float, float, float], colour) -> None:
        bpy.ops.mesh.primitive_cube_add(size=1.0, location=(centre[0], centre[1], size[2] / 2))
        ob = bpy.context.active_object
        ob.scale = size
        ob.data.materials.append(_principled(f"box{len(self.occluders)}", tuple(colour)))
        self.occluders.append(ob)
        self._colour_mats[ob.name] = list(ob.data.materials)
        self._id_mats[ob.name] = _emission(f"id_occ{len(self.occluders)}", ID_COLOURS[OCCLUDER_ID])

    def set_vertices(self, index: int, vertices: np.ndarray) -> None:
        me = self.people[index].data
        me.vertices.foreach_set("co", vertices.astype(np.float32).ravel())
        me.update()

    def _world(self, colour: tuple[float, float, float], strength: float) -> None:
        bg = self.scene.world.node_tree.nodes.get("Background")
        bg.inputs["Color"].default_value = (*colour, 1.0)
        bg.inputs["Strength"].default_value = strength

    def _id_mode(self, on: bool) -> None:
        sc = self.scene
        for ob in self.people + self.occluders:
            mats = [self._id_mats[ob.name]] * len(ob.data.materials) if on else self._colour_mats[ob.name]
            for i, m in enumerate(mats):
                ob.data.materials[i] = m
        self.floor.data.materials[0] = self._black if on else self._floor_mat
        if on:
            sc.cycles.samples, sc.cycles.use_denoising, sc.cycles.max_bounces = 1, False, 0
            sc.cycles.filter_width = 0.01
            sc.cycles.use_adaptive_sampling = False
            self._world((0, 0, 0), 0.0)
        else:
            sc.cycles.samples, sc.cycles.use_denoising = self.settings.samples, self.settings.denoise
            sc.cycles.max_bounces = 0
            sc.cycles.filter_width = 1.5
            self._world(self.background, 1.0)

    def render(self, colour_png: Path, id_png: Path) -> np.ndarray:
        """Render both passes to PNG files; returns the ID image ``(H, W)`` int: person index, -1 none, -2 occluder."""
        if not hasattr(self, "_floor_mat"):
            self._floor_mat = self.floor.data.materials[0]
        sc = self.scene
        self._id_mode(False)
        sc.render.filepath = str(colour_png)
        bpy.ops.render.render(write_still=True)
        self._id_mode(True)
        sc.render.filepath = str(id_png)
        bpy.ops.render.render(write_still=True)
        return read_id(id_png)


def read_id(path: Path) -> np.ndarray:
    """Decode an ID render: ``(H, W)`` int, person index, -1 for nothing, -2 for an occluder; row 0 at the top."""
    img = bpy.data.images.load(str(path))
    img.colorspace_settings.name = "Non-Color"
    w, h = img.size
    px = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(px)
    bpy.data.images.remove(img)
    rgb = np.round(px.reshape(h, w, 4)[::-1, :, :3]).astype(int)
    code = rgb @ np.array([4, 2, 1])
    table = np.full(8, -1)
    for i, c in enumerate(ID_COLOURS.astype(int)):
        table[c @ np.array([4, 2, 1])] = -2 if i == OCCLUDER_ID else i
    return table[code]


def encode_mp4(frames: list[Path], fps: float, out: Path, crf: str = "MEDIUM") -> Path:
    """H.264 ``out`` from PNG ``frames`` through the video sequencer and Blender's FFmpeg."""
    sc = bpy.data.scenes.new("encode")
    first = Path(frames[0])
    ed = sc.sequence_editor_create()
    strips = ed.strips if hasattr(ed, "strips") else ed.sequences
    strip = strips.new_image("frames", str(first), 1, 1)
    for f in frames[1:]:
        strip.elements.append(Path(f).name)
    w, h = bpy.context.scene.render.resolution_x, bpy.context.scene.render.resolution_y
    sc.render.resolution_x, sc.render.resolution_y, sc.render.resolution_percentage = w, h, 100
    sc.frame_start, sc.frame_end = 1, len(frames)
    sc.render.fps, sc.render.fps_base = round(fps), round(fps) / fps
    s = sc.render.image_settings
    if hasattr(s, "media_type"):
        s.media_type = "VIDEO"
    s.file_format = "FFMPEG"
    sc.render.ffmpeg.format = "MPEG4"
    sc.render.ffmpeg.codec = "H264"
    sc.render.ffmpeg.constant_rate_factor = crf
    sc.render.ffmpeg.ffmpeg_preset = "GOOD"
    sc.render.filepath = str(out)
    sc.render.use_file_extension = False
    bpy.ops.render.render(animation=True, scene=sc.name)
    bpy.data.scenes.remove(sc)
    return out
