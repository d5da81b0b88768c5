"""The service's local state in one data folder: the conversation store (SQLite) and the text index (Whoosh)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import messages
from .core.conversation import Conversation
from .core.engine import Engine
from .core.pipeline import Pipeline
from .core.whoosh_index import WhooshIndex, index_exists
from .errors import UserError

STATE_FILE = "state.sqlite"
INDEX_DIR = "index"


@dataclass
class Store:
    conversation: Conversation
    index: WhooshIndex
    pipeline: Pipeline
    engine: Engine
    site_url: str


@contextmanager
def open_store(data: Path, *, create: bool = True, opted_out_by_default: bool = False,
               extra_endorsing: frozenset[str] = frozenset()) -> Iterator[Store]:
    """Opens (or creates) the data folder; flushes pending index writes and closes on the way out."""
    if not create and not (data / STATE_FILE).is_file():
        raise UserError(messages.no_data(data))
    if not create and not index_exists(data / INDEX_DIR):
        raise UserError(messages.no_index(data))
    data.mkdir(parents=True, exist_ok=True)
    conversation = Conversation(str(data / STATE_FILE), opted_out_by_default=opted_out_by_default, extra_endorsing=extra_endorsing)
    index = WhooshIndex(data / INDEX_DIR)
    pipeline = Pipeline(conversation, index)
    site_url = os.environ.get("WHOKNOWS_SITE_URL", "http://localhost:8065").rstrip("/")
    try:
        yield Store(conversation, index, pipeline, Engine(conversation, index), site_url)
        pipeline.flush()
    finally:
        index.close()
        conversation.close()
