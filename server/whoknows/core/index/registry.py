"""The index engines, one entry each: what the settings offer, where each keeps its folder, how the
start-up repair reads it and how it is opened. The registry sits above the engines (the interface in
`base` knows none of them); a new engine is one module beside them and one entry here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import shutil

from .base import IndexServer, PostIndex

ANALYSIS_FILE = "whoknows-analysis"
"""Inside an index folder: the analysis version its terms were made with (core.index.analysis.ANALYSIS_VERSION).
Neither engine touches files it did not write."""


@dataclass(frozen=True, slots=True)
class EngineEntry:
    name: str
    folder: str
    """The index folder's name inside the data folder: one per engine, so switching never misreads an index."""
    summary: str
    open: Callable[[Path | None, IndexServer | None], PostIndex]
    """The engine's index at a path (created when missing), or in RAM for None. Engines in a search server keep
    their index there (the IndexServer) and only the analysis stamp in the folder; the others ignore the server."""
    exists: Callable[[Path, IndexServer | None], bool]
    post_ids: Callable[[Path, IndexServer | None], set[str]]
    """Every post id in the index; raises when it cannot be read."""
    drop: Callable[[Path, IndexServer | None], None] = lambda path, server: shutil.rmtree(path, ignore_errors=True)
    """Deletes the index (its folder; for a server engine also the server's index)."""
    shared: bool = False
    """The index lives in a server every replica reaches (replicas that do not lead answer from it)."""


def _open_whoosh(path: Path | None, server: IndexServer | None) -> PostIndex:
    from .whoosh_engine import WhooshIndex

    return WhooshIndex(path)


def _whoosh_exists(path: Path, server: IndexServer | None) -> bool:
    from .whoosh_engine import index_exists

    return index_exists(path)


def _whoosh_ids(path: Path, server: IndexServer | None) -> set[str]:
    from .whoosh_engine import read_post_ids

    return read_post_ids(path)


def _open_tantivy(path: Path | None, server: IndexServer | None) -> PostIndex:
    from .tantivy_engine import TantivyIndex

    return TantivyIndex(path)


def _tantivy_exists(path: Path, server: IndexServer | None) -> bool:
    from .tantivy_engine import index_exists

    return index_exists(path)


def _tantivy_ids(path: Path, server: IndexServer | None) -> set[str]:
    from .tantivy_engine import read_post_ids

    return read_post_ids(path)


def _server(server: IndexServer | None) -> IndexServer:
    if server is None or not server.url:
        raise ValueError("the opensearch index engine needs the URL of an OpenSearch server (OpenSearchUrl)")
    return server


def _open_opensearch(path: Path | None, server: IndexServer | None) -> PostIndex:
    from .opensearch_engine import OpenSearchIndex

    index = OpenSearchIndex(_server(server), scratch=path is None)
    if path is not None:
        # The folder holds the analysis stamp only, copied from the server's index (its _meta), which replicas share.
        path.mkdir(parents=True, exist_ok=True)
        (path / ANALYSIS_FILE).write_text(f"{index.analysis_version()}\n", encoding="utf-8")
    return index


def _opensearch_exists(path: Path, server: IndexServer | None) -> bool:
    from .opensearch_engine import index_exists

    return index_exists(_server(server))


def _opensearch_ids(path: Path, server: IndexServer | None) -> set[str]:
    from .opensearch_engine import read_post_ids

    ids, version = read_post_ids(_server(server))
    # The stamp follows the server's index, which replicas share: a new replica's empty folder, or a folder whose
    # stamp another replica's upgrade made stale, is not taken for an index made with another analysis.
    path.mkdir(parents=True, exist_ok=True)
    (path / ANALYSIS_FILE).write_text(f"{version}\n", encoding="utf-8")
    return ids


def _opensearch_drop(path: Path, server: IndexServer | None) -> None:
    from .opensearch_engine import drop_index

    shutil.rmtree(path, ignore_errors=True)
    if server is not None and server.url:
        drop_index(server)


# Engines are imported only when used: a Whoosh deployment never loads tantivy.
REGISTRY: dict[str, EngineEntry] = {
    entry.name: entry
    for entry in (
        EngineEntry("whoosh", "index", "pure Python, the default", _open_whoosh, _whoosh_exists, _whoosh_ids),
        EngineEntry("tantivy", "index-tantivy", "Rust; for a million posts", _open_tantivy, _tantivy_exists, _tantivy_ids),
        EngineEntry("opensearch", "index-opensearch", "an OpenSearch server; one index replicas can share",
                    _open_opensearch, _opensearch_exists, _opensearch_ids, _opensearch_drop, shared=True),
    )
}
ENGINES = tuple(REGISTRY)
"""The engines behind PostIndex, the default first."""
DEFAULT_ENGINE = ENGINES[0]


def entry(engine: str) -> EngineEntry:
    try:
        return REGISTRY[engine]
    except KeyError:
        raise ValueError(f"unknown index engine {engine!r}: one of {', '.join(ENGINES)}") from None


def engine_folder(engine: str) -> str:
    return entry(engine).folder


def open_index(engine: str = DEFAULT_ENGINE, path: Path | None = None, server: IndexServer | None = None) -> PostIndex:
    """The chosen engine's index at `path` (created when missing, stamped with the analysis version), or in RAM
    when `path` is None (for a server engine: an index of its own, deleted at close). `server`: where a server
    engine keeps its index (ValueError when it needs one and has none)."""
    chosen = entry(engine)
    if path is None or chosen.exists(path, server):
        return chosen.open(path, server)
    from .analysis import ANALYSIS_VERSION

    index = chosen.open(path, server)
    (path / ANALYSIS_FILE).write_text(f"{ANALYSIS_VERSION}\n", encoding="utf-8")
    return index


def outdated_analysis(path: Path) -> int | None:
    """The analysis version the index at `path` was made with when it is not the current one (1: made before
    versions were written), else None."""
    from .analysis import ANALYSIS_VERSION

    try:
        version = int((path / ANALYSIS_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        version = 1
    return None if version == ANALYSIS_VERSION else version


def index_exists(engine: str, path: Path, server: IndexServer | None = None) -> bool:
    return entry(engine).exists(path, server)


def drop_index(engine: str, path: Path, server: IndexServer | None = None) -> None:
    """Deletes the engine's index at `path` (and in its server)."""
    entry(engine).drop(path, server)
