"""`python -m whoknows.bench`: whoknows measured at scale on a generated workspace (issue 6).

Benchmarks print figures; tests never assert timings. The reference engines (tantivy, SQLite FTS5)
are a bench-only extra (`pip install -e '.[bench]'`), never imported by the service.
"""

from .timing import Latencies, percentile
from .workspace import Workspace, cached_workspace, parse_scale

__all__ = ["Latencies", "Workspace", "cached_workspace", "parse_scale", "percentile"]
