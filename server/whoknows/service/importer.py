"""`whoknows import`: a bulk export into the index, all or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..adapters.bulk_export import read_export
from ..core.events import Event
from ..core.pipeline import Applied, Pipeline


@dataclass(frozen=True, slots=True)
class ImportReport:
    lines: int
    applied: Applied
    seconds: float


def import_export(pipeline: Pipeline, path: Path, *, progress: bool = False, chunk_lines: int = 2000) -> ImportReport:
    """Checks every line first (a malformed line stops the import before anything is applied), then applies
    the events through the pipeline in chunks, committing the index in batches."""
    started = time.monotonic()
    lines = 0
    for lines, _ in read_export(path):
        pass
    applied = Applied()
    chunk: list[Event] = []
    with tqdm(total=lines, unit=" lines", disable=not progress, desc="importing") as bar:
        for line_no, events in read_export(path):
            chunk.extend(events)
            if line_no % chunk_lines == 0:
                applied += pipeline.apply(chunk)
                chunk = []
                bar.n = line_no
                bar.refresh()
        applied += pipeline.apply(chunk)
        bar.n = lines
        bar.refresh()
    pipeline.flush()
    return ImportReport(lines, applied, time.monotonic() - started)
