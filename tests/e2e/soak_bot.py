"""The soak's bot process: `whoknows` itself, with a disk that can fill up from outside.

While the file named by WHOKNOWS_SOAK_DISK_FULL exists, every new index file is opened on /dev/full, where each
write fails with ENOSPC as on a full disk (the technique of tests/unit/test_disk_full.py, switched by a file
because the soak kills and restarts this process). Run as a script: `python soak_bot.py -v --data DIR run`.

With SOAK_TRACEMALLOC=FILE, Python's allocations are traced and, every minute, the 25 places whose memory grew most
since the first minute are written to FILE (to tell a leak from mapped index files when RSS grows).
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from whoknows.cli import main

DEV_FULL = Path("/dev/full")


def fill_disk_on(flag: Path) -> None:
    real = FileStorage.create_file

    def create_file(self: FileStorage, name: str, *args: Any, **kwargs: Any) -> Any:
        if not flag.exists():
            return real(self, name, *args, **kwargs)
        return StructFile(DEV_FULL.open("wb"), name=name)

    FileStorage.create_file = create_file


def trace_growth(report: Path, every_s: float = 60.0) -> None:
    tracemalloc.start(10)

    def watch() -> None:
        time.sleep(every_s)
        first = tracemalloc.take_snapshot()
        while True:
            time.sleep(every_s)
            now = tracemalloc.take_snapshot()
            lines = [f"== {time.strftime('%H:%M:%S')} traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB"]
            lines += [str(stat) for stat in now.compare_to(first, "traceback")[:25]]
            top = now.compare_to(first, "traceback")[:3]
            lines += ["\n".join(stat.traceback.format()) for stat in top]
            with report.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")

    threading.Thread(target=watch, daemon=True, name="soak-tracemalloc").start()


if __name__ == "__main__":
    if trace := os.environ.get("SOAK_TRACEMALLOC"):
        trace_growth(Path(trace))
    switch = os.environ.get("WHOKNOWS_SOAK_DISK_FULL")
    if switch and DEV_FULL.exists():
        fill_disk_on(Path(switch))
    main(prog_name="whoknows")
