"""The shape of the house: modules stay small, the sub-command table is the one source of help and
autocomplete, and the engine registry is what the settings offer."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from whoknows.app.commands import ROWS, autocomplete, autocomplete_hint, help_text, parse
from whoknows.app.settings import manifest_path
from whoknows.cli import main
from whoknows.core.index import ENGINES, REGISTRY

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "whoknows"
MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_autocomplete_lists_every_sub_command_in_the_plugin_shape() -> None:
    data = autocomplete()
    assert data["trigger"] == "whoknows" and data["description"]
    assert data["hint"] == "[topic | @someone | me | optout | optin | channel | learn | digest | help]"
    names = [s["name"] for s in data["subcommands"]]
    assert names == ["@someone", "me", "optout", "optin", "channel", "learn", "digest", "help"]
    assert all(set(s) == {"name", "hint", "help"} and s["help"] for s in data["subcommands"])
    assert {s["name"]: s["hint"] for s in data["subcommands"]}["learn"] == "[title | off]"
    assert "learn" in autocomplete_hint() and "digest" in autocomplete_hint()


def test_whoknows_autocomplete_prints_the_table_as_json() -> None:
    result = CliRunner().invoke(main, ["autocomplete"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == autocomplete()


def test_help_has_a_line_per_row_and_each_row_parses_its_own_usage() -> None:
    text = help_text("whoknows")
    for row in ROWS:
        if row.name != "help":
            assert f"`/whoknows {row.usage}`" in text
        example = row.usage.replace("[title]", "").replace("on|off", "on").replace("@someone", "@dana").strip()
        assert row.matcher(example.split(), example) == parse(example), row.name


def test_the_settings_offer_exactly_the_registered_engines() -> None:
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    spec = next(s for s in manifest["settings_schema"]["settings"] if s["key"] == "IndexEngine")
    assert [o["value"] for o in spec["options"]] == list(ENGINES) == list(REGISTRY)
    assert len({e.folder for e in REGISTRY.values()}) == len(REGISTRY)
