"""`python -m whoknows.bench`: whoknows measured at scale on a generated workspace (issue 6).

Benchmarks print figures; tests never assert timings. `--engine` picks the index under test (whoosh or
tantivy); beside it, raw tantivy and SQLite FTS5 indexes of the same analysed posts are the references.
"""

from .timing import Latencies, percentile
from .workspace import Workspace, cached_workspace, parse_scale

__all__ = ["Latencies", "Workspace", "cached_workspace", "parse_scale", "percentile"]
