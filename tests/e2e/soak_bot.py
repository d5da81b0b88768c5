"""The soak's bot process: `whoknows` itself, with a disk that can fill up from outside.

While the file named by WHOKNOWS_SOAK_DISK_FULL exists, every new index file is opened on /dev/full, where each
write fails with ENOSPC as on a full disk (the technique of tests/unit/test_disk_full.py, switched by a file
because the soak kills and restarts this process). Run as a script: `python soak_bot.py -v --data DIR run`.
"""

from __future__ import annotations

import os
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


if __name__ == "__main__":
    switch = os.environ.get("WHOKNOWS_SOAK_DISK_FULL")
    if switch and DEV_FULL.exists():
        fill_disk_on(Path(switch))
    main(prog_name="whoknows")
