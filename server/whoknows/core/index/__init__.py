"""The text index: the interface the core uses (`base`), the analyser every engine shares (`analysis`), the
engines (`whoosh_engine`, `tantivy_engine`, `opensearch_engine`) and the registry above them (`registry`)."""

from .base import Hit, IndexedPost, IndexServer, IndexStats, IndexUnavailable, PendingWrites, PostIndex
from .registry import DEFAULT_ENGINE, ENGINES, REGISTRY, EngineEntry, drop_index, engine_folder, entry, index_exists, open_index, outdated_analysis

__all__ = [
    "DEFAULT_ENGINE", "ENGINES", "REGISTRY", "EngineEntry", "Hit", "IndexServer", "IndexStats", "IndexUnavailable", "IndexedPost", "PendingWrites", "PostIndex",
    "drop_index", "engine_folder", "entry", "index_exists", "open_index", "outdated_analysis",
]
