"""Train RAM's regressor: 'train stage1' (T-HMR on images), 'stage2' (Predictor), 'stage3' (Combiner).

Single process: ``ram-core train stage1 --config stage1.json --out runs/s1``. Several GPUs or nodes:
``torchrun --nproc-per-node 8 -m ram_core train stage1 --config ... --out ...`` (the same
``--out`` on shared storage for every node). A run resumes from the latest checkpoint under
``--out`` unless told otherwise; the model is ``<out>/checkpoints/step_N/ram.safetensors``.
Ctrl-C or SIGTERM (SLURM's and ``timeout``'s warning before a kill) checkpoints at the end of the
current step and exits 130 or 143; the same command resumes from there.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
from pathlib import Path

from ram_core.contract import stopping

STAGE_HELP = {
    "stage1": "T-HMR (backbone + SMPL decoder) on single images",
    "stage2": "the Predictor on T-frame sequences, unrolled with scheduled sampling",
    "stage3": "the Combiner alone, with 60%% of the body masked at random",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    for stage, help_line in STAGE_HELP.items():
        p = sub.add_parser(stage, help=help_line, description=help_line)
        p.add_argument("--config", required=True, type=Path, help="training config (JSON; see docs/training.md)")
        p.add_argument("--out", required=True, type=Path, help="run directory: metrics.jsonl and checkpoints/")
        p.add_argument("--init", help="override the config's initial weights (HMR2.0 .ckpt or RAM .safetensors)")
        p.add_argument(
            "--resume",
            default="auto",
            help="'auto' (latest checkpoint under --out), 'none', or a checkpoint directory",
        )
        p.add_argument("--until-step", type=int, help="stop and checkpoint at this step (resume later)")
        p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from ram_core.train.config import load_config
    from ram_core.train.distributed import init_distributed, shutdown_distributed
    from ram_core.train.run import MODEL_FILE, run_stage
    from ram_core.train.state import checkpoint_step

    cfg = load_config(args.config)
    if args.init:
        cfg = dataclasses.replace(cfg, init=args.init)
    if cfg.init and not Path(cfg.init).is_file():  # not "its config ... is missing beside it", said of no file
        raise ValueError(f"{cfg.init}: no such file (the initial weights, --init or the config's init)")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out}: is a file; give the run's folder (made if needed)")
    resume = None if args.resume == "none" else args.resume
    info = init_distributed(args.device)
    # Metric lines go to stdout on the main rank.
    train_log = logging.getLogger("ram_core.train")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    if info.is_main:
        train_log.addHandler(handler)
        train_log.setLevel(logging.INFO)
        train_log.propagate = False
    stopped_by: list[int] = []  # the signal that asked for a stop

    def on_stop(signum, frame) -> None:
        if stopped_by:
            raise KeyboardInterrupt
        stopped_by.append(signum)
        if info.is_main:
            sys.stderr.write(
                f"\nram-core: stopping after this step to save a checkpoint ({stopping.said(signum)} again to stop at once)\n"
            )

    try:
        with stopping.on_stop(on_stop):
            final = run_stage(
                args.stage,
                cfg,
                args.out,
                info,
                resume=resume,
                until_step=args.until_step,
                should_stop=lambda: bool(stopped_by),
            )
    except KeyboardInterrupt:
        signum = stopped_by[0] if stopped_by else signal.SIGINT
        if info.is_main:
            print(
                f"ram-core: stopped at once by {stopping.said(signum)}; the latest checkpoint under "
                f"{args.out / 'checkpoints'} is kept; resume: {resume_command(args, info.distributed)}",
                file=sys.stderr,
            )
        return stopping.exit_code(signum)
    finally:
        train_log.removeHandler(handler)
        train_log.propagate = True
        shutdown_distributed()
    step = checkpoint_step(final)
    target = cfg.loop.max_steps if args.until_step is None else min(args.until_step, cfg.loop.max_steps)
    if stopped_by and step < target:
        if info.is_main:
            print(
                f"ram-core: stopped by {stopping.said(stopped_by[0])} at step {step} of {target}: "
                f"checkpoint {final}; resume: {resume_command(args, info.distributed)}",
                file=sys.stderr,
            )
        return stopping.exit_code(stopped_by[0])
    if info.is_main:
        print(f"model: {final / MODEL_FILE}")
    return 0


def resume_command(args: argparse.Namespace, distributed: bool = False) -> str:
    """The command that resumes this run: the same stage, config and output ('--resume auto' finds the checkpoint)."""
    if distributed:
        return "the same torchrun command"
    words = ["ram-core", "train", args.stage, "--config", str(args.config), "--out", str(args.out)]
    if args.init:
        words += ["--init", args.init]
    if args.until_step is not None:
        words += ["--until-step", str(args.until_step)]
    if args.device != "auto":
        words += ["--device", args.device]
    return shlex.join(words)
