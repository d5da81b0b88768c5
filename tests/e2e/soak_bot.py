"""The soak's bot process: `whoknows` itself, with a disk that can fill up from outside.

While the file named by WHOKNOWS_SOAK_DISK_FULL exists, every new index file is opened on /dev/full, where each
write fails with ENOSPC as on a full disk (the technique of tests/unit/test_disk_full.py, switched by a file
because the soak kills and restarts this process). Run as a script: `python soak_bot.py -v --data DIR run`.

With SOAK_TRACEMALLOC=FILE, Python's allocations are traced and, every minute, the 25 places whose memory grew most
since the first minute are written to FILE (to tell a leak from mapped index files when RSS grows). With
SOAK_MEMSTATS=FILE, every 30 s one line: the heap's resident size, Python's allocated blocks, the C allocator's
bytes in use and free (glibc's mallinfo2) and the thread count: live objects growing, or freed memory kept.
SIGUSR1 writes every thread's stack to stderr (the soak's log), SIGUSR2 every asyncio task's, for a bot that seems stuck.
SOAK_DEBUG=name,name logs those loggers' debug lines too (which process answered a command, for the replicas' test).
"""

from __future__ import annotations

import ctypes
import logging
import faulthandler
import os
import signal
import sys
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


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def memory_stats(report: Path, every_s: float = 30.0) -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2

    def anon_kib() -> int:
        status = Path("/proc/self/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("RssAnon:"))

    def watch() -> None:
        with report.open("a", encoding="utf-8") as out:
            out.write(f"== process {os.getpid()}\n")
        while True:
            info = libc.mallinfo2()
            line = (f"{time.strftime('%H:%M:%S')} anon {anon_kib() / 1024:.1f} MiB, python blocks {sys.getallocatedblocks()}, "
                    f"malloc in use {info.uordblks / 2**20:.1f} MiB, free {info.fordblks / 2**20:.1f} MiB, "
                    f"mmapped {info.hblkhd / 2**20:.1f} MiB, threads {threading.active_count()}")
            with report.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
            time.sleep(every_s)

    threading.Thread(target=watch, daemon=True, name="soak-memstats").start()


def task_stacks(signum: int, frame: Any) -> None:
    """Every asyncio task's stack on stderr (SIGUSR2): where the event loop's work waits, when threads say little."""
    import asyncio

    try:
        tasks = asyncio.all_tasks(asyncio.get_running_loop())
    except RuntimeError:
        print("soak: no running event loop", file=sys.stderr)
        return
    for task in tasks:
        print(f"soak: task {task.get_name()}", file=sys.stderr)
        task.print_stack(limit=12, file=sys.stderr)


if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the soak asks for every thread's stack when it waits in vain
    signal.signal(signal.SIGUSR2, task_stacks)
    if stats := os.environ.get("SOAK_MEMSTATS"):
        memory_stats(Path(stats))
    if trace := os.environ.get("SOAK_TRACEMALLOC"):
        trace_growth(Path(trace))
    for name in filter(None, os.environ.get("SOAK_DEBUG", "").split(",")):
        logging.getLogger(name).setLevel(logging.DEBUG)
    switch = os.environ.get("WHOKNOWS_SOAK_DISK_FULL")
    if switch and DEV_FULL.exists():
        fill_disk_on(Path(switch))
    main(prog_name="whoknows")
