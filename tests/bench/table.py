"""The result as a small markdown table."""

from __future__ import annotations

from typing import Any


def _pair(figures: dict[str, Any]) -> str:
    return f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} ms"


def markdown(result: dict[str, Any]) -> str:
    through, inside = result["through_mattermost"], result["in_process"]
    difference = {k: round(through[k] - inside[k], 2) for k in ("p50_ms", "p95_ms")}
    setup = result["setup_seconds"]
    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in setup.items() if name != "total")
    rows = [
        "| `/whoknows <topic>`, p50 / p95 | value |",
        "|---|---:|",
        f"| through Mattermost (`POST /api/v4/commands/execute`, the bot answering) | {_pair(through)} |",
        f"| in-process (`slash_command` on the bot's store) | {_pair(inside)} |",
        f"| difference | {_pair(difference)} |",
        f"| posts (in the workspace / in the bot's store: public channels) | {result['posts']:,} / {result['posts_read']:,} |",
        f"| commands timed (cards through Mattermost / in-process) | {through['n']} ({result['cards']['through_mattermost']} / "
        f"{result['cards']['in_process']}) |",
        f"| setup seconds | {setup['total']:.0f} ({steps}) |",
    ]
    return "\n".join(rows)
