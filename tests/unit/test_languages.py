"""Text that is not English, on both engines, seen from `Engine.ask` (who a card names): a word inside a run of
Chinese, Japanese or Korean characters is found; a Latin-script word finds its plural and its plural finds it,
with or without its accents; other scripts are kept whole; English terms stay what they were.
And an index made under an older analysis is indexed again at start-up, from the local store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import World, post, user
from whoknows.core.events import ChannelUpdated, PostCreated, UserUpdated
from whoknows.core.index import ENGINES
from whoknows.core.index.analysis import ANALYZER, CHAT_STOP_WORDS
from whoknows.core.index.registry import ANALYSIS_FILE


@pytest.fixture(params=ENGINES)
def index_engine(request: pytest.FixtureRequest) -> str:
    engine: str = request.param
    return engine


def finder(make_world: Callable[..., World], author: str, message: str) -> World:
    world = make_world()
    world.ingest(user(author), user("nobody"), post("p1", author, message), post("p2", "nobody", "an unrelated note about lunch"))
    return world


@pytest.mark.parametrize(("message", "query"), [
    ("我们明天做数据库迁移，记得先备份", "数据库迁移"),
    ("我们明天做数据库迁移，记得先备份", "迁移"),
    ("我们明天做数据库迁移，记得先备份", "备份"),
    ("明日データベース移行をします", "移行"),
    ("내일 데이터베이스 마이그레이션을 합니다", "마이그레이션"),
])
def test_a_cjk_word_inside_a_run_of_characters_is_found(make_world: Callable[..., World], message: str, query: str) -> None:
    world = finder(make_world, "li", message)
    assert world.names(query) == ["li"]


PLURALS = [  # (language, singular, plural)
    ("de", "Verbindung", "Verbindungen"), ("de", "Version", "Versionen"), ("de", "Datei", "Dateien"),
    ("de", "Ergebnis", "Ergebnisse"), ("de", "Bericht", "Berichte"), ("de", "Universität", "Universitäten"),
    ("fr", "serveur", "serveurs"), ("fr", "réseau", "réseaux"), ("fr", "donnée", "données"), ("fr", "journal", "journaux"),
    ("fr", "clé", "clés"), ("es", "servidor", "servidores"), ("es", "configuración", "configuraciones"),
    ("es", "contraseña", "contraseñas"), ("es", "versión", "versiones"), ("es", "botón", "botones"),
    ("pt", "migração", "migrações"), ("pt", "configuração", "configurações"), ("pt", "arquivo", "arquivos"),
    ("pt", "papel", "papéis"), ("pt", "nível", "níveis"),
]


@pytest.mark.parametrize(("lang", "singular", "plural"), PLURALS, ids=[f"{p[0]}-{p[1]}" for p in PLURALS])
def test_a_word_finds_its_plural_and_back(make_world: Callable[..., World], lang: str, singular: str, plural: str) -> None:
    one = finder(make_world, "ana", f"hier: {singular} kaputt")
    many = finder(make_world, "ana", f"hier: {plural} kaputt")
    assert one.names(singular) == one.names(plural) == ["ana"]
    assert many.names(singular) == many.names(plural) == ["ana"]


def test_words_are_found_typed_without_their_accents(make_world: Callable[..., World]) -> None:
    world = finder(make_world, "ana", "la configuración del servidor y la migração da base, Größe prüfen")
    for typed in ("configuracion", "migracao", "grosse", "CONFIGURACIÓN"):
        assert world.names(typed) == ["ana"], typed


def test_other_scripts_are_kept_whole_never_cut_by_english_rules() -> None:
    assert [t.text for t in ANALYZER("Москва базы данных ελληνικά")] == ["москва", "базы", "данных", "ελληνικά"]
    assert [t.text for t in ANALYZER("migrações papéis níveis")] == ["migracao", "papel", "nivel"]  # once: migraçõ, papéi, nívei


ENGLISH = ("Deploying kubernetes ingress controllers, rotated certificates and flaky iOS builds; the runners "
           "cached Pods keyed on Podfile.lock, replication passwords rotate without downtime, tokens expire, listen "
           "on ports, open connections, updates, privately, happiness, generalizations, activate, formats, organizing")


def test_english_words_keep_the_terms_they_had() -> None:
    from whoosh.analysis import StemmingAnalyzer

    before = StemmingAnalyzer(stoplist=CHAT_STOP_WORDS, minsize=2, maxsize=40)
    assert [t.text for t in ANALYZER(ENGLISH)] == [t.text for t in before(ENGLISH)]


def test_an_index_made_with_an_older_analysis_is_indexed_again_from_the_store(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from whoosh import fields
    from whoosh.analysis import StemmingAnalyzer

    from whoknows.core.index import whoosh_engine
    from whoknows.service.repair import Outcome, mark_stopped, prepare
    from whoknows.storage.store import INDEX_DIR, open_store

    # The previous release: Whoosh's stemming analyser in the index's schema, and no analysis version written.
    old = fields.Schema(post_id=fields.ID(stored=True, unique=True), channel_id=fields.ID(), user_id=fields.ID(),
                        text=fields.TEXT(analyzer=StemmingAnalyzer(stoplist=CHAT_STOP_WORDS, minsize=2, maxsize=40), phrase=False))
    with monkeypatch.context() as patch:
        patch.setattr(whoosh_engine, "SCHEMA", old)
        with open_store(tmp_path) as store:
            store.pipeline.apply([ChannelUpdated("c", "t", "town", "O"), UserUpdated("li", "li", ""),
                                  PostCreated("p1", "c", "li", "我们明天做数据库迁移", 1)])
    (tmp_path / INDEX_DIR / ANALYSIS_FILE).unlink()
    with open_store(tmp_path) as store:
        assert store.engine.ask("迁移", now=2).experts == ()  # what the old index answers
    mark_stopped(tmp_path)

    assert prepare(tmp_path) is Outcome.REPAIRED
    with open_store(tmp_path) as store:
        assert [x.person.username for x in store.engine.ask("迁移", now=2).experts] == ["li"]
    mark_stopped(tmp_path)
    assert prepare(tmp_path) is Outcome.INTACT  # once
