"""SMPL model files: convert an official SMPL .pkl once into an .npz that needs no chumpy.

`ram-core smpl convert IN.pkl OUT.npz` reads the pickle with a restricted unpickler (numpy arrays,
chumpy arrays as plain numpy, scipy sparse matrices as dense arrays; anything else is refused) and
writes the arrays smplx needs (v_template, f, J_regressor, weights, kintree_table, shapedirs, posedirs).
Give the .npz to `ram-core capture --smpl FILE` or the add-on's preferences.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="smpl_command", metavar="ACTION", required=True)
    convert = sub.add_parser("convert", help="convert an SMPL .pkl (chumpy) to a plain .npz")
    convert.add_argument("input", help="an official SMPL model file, e.g. SMPL_NEUTRAL.pkl")
    convert.add_argument("output", help="the .npz to write")
    check = sub.add_parser("check", help="validate an SMPL .npz and print its shapes and rest joints")
    check.add_argument("model", help="an SMPL model .npz")


def run(args: argparse.Namespace) -> int:
    from ram_core.contract.skeleton import JOINT_NAMES
    from ram_core.contract.smpl_model import load_smpl_model, smpl_rest_joints

    if args.smpl_command == "convert":
        from ram_core.body.smpl_convert import convert_smpl_pkl

        shapes = convert_smpl_pkl(args.input, args.output)
        print(f"wrote {args.output}")
        for key, shape in shapes.items():
            print(f"  {key:14s} {shape}")
        load_smpl_model(args.output)
        return 0
    model = load_smpl_model(args.model)
    print(
        f"{args.model}: {model.num_vertices} vertices, {len(model.faces)} faces, {model.num_betas} betas, "
        f"pose blend shapes: {'yes' if model.posedirs is not None else 'no'}"
    )
    for name, p in zip(JOINT_NAMES, smpl_rest_joints(model)):
        print(f"  {name:15s} {p[0]: .4f} {p[1]: .4f} {p[2]: .4f}")
    return 0
