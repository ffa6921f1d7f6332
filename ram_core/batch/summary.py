"""A batch's summary: one row per video (video, status, export, frames, people, seconds, attempts, message),
as a table for the terminal and as ``batch_summary.csv`` and ``.json`` in the output folder."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict
from pathlib import Path

from ram_core.batch.task import Outcome, write_text_atomically
from ram_core.contract.batch_files import SUMMARY_NAME

COLUMNS = ("video", "status", "export", "frames", "people", "seconds", "attempts", "message")


def rows(outcomes: list[Outcome]) -> list[dict[str, object]]:
    """The summary's rows; ``video`` is the file name (the full path is in the JSON's ``path``)."""
    return [{**{k: getattr(o, k) for k in COLUMNS}, "video": os.path.basename(o.video)} for o in outcomes]


def table(outcomes: list[Outcome]) -> str:
    """A plain-text table with a header line and one line per video (the export column only when a
    scene stage ran)."""
    columns = [c for c in COLUMNS if c != "export" or any(o.export for o in outcomes)]
    body = [[str(r[k]) if k != "seconds" else f"{r[k]:.1f}" for k in columns] for r in rows(outcomes)]
    widths = [max([len(c)] + [len(line[i]) for line in body]) for i, c in enumerate(columns)]
    numeric = {"frames", "people", "seconds", "attempts"}

    def fmt(cells: list[str]) -> str:
        parts = [cell.rjust(w) if name in numeric else cell.ljust(w) for cell, w, name in zip(cells, widths, columns)]
        return "  ".join(parts).rstrip()

    return "\n".join([fmt(columns), *(fmt(line) for line in body)])


def write(outcomes: list[Outcome], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``batch_summary.csv`` and ``batch_summary.json`` into ``out_dir`` (each atomically)."""
    out = Path(out_dir)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(outcomes))
    csv_path, json_path = out / f"{SUMMARY_NAME}.csv", out / f"{SUMMARY_NAME}.json"
    write_text_atomically(csv_path, text.getvalue())
    records = [{**asdict(o), "path": o.video, "video": os.path.basename(o.video)} for o in outcomes]
    write_text_atomically(json_path, json.dumps({"videos": records}, indent=1) + "\n")
    return csv_path, json_path
