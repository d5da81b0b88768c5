"""The result: a JSON file for comparison across runs, and a short markdown table for people."""

from __future__ import annotations

from typing import Any

TARGETS_1M = {
    "command_p95_ms": 100.0,
    "command_overhead_ratio": 2.0,
    "suggestion_p95_ms": 150.0,
    "suggestion_overhead_ratio": 2.0,
    "live_lag_p95_ms": 1000.0,
    "loaded_over_idle_p95": 1.5,
    "import_share_of_reference": 0.2,
    "peak_rss_mb": 1024.0,
    "failover_p95_ms": 10_000.0,
}
AT_LEAST = {"import_share_of_reference"}


def verdicts(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with the measured figure and whether it is met (the targets are set for 1M posts)."""
    got = {
        "command_p95_ms": r["command"]["p95_ms"],
        "command_overhead_ratio": r["command_overhead_ratio"],
        "suggestion_p95_ms": r["suggestion"]["p95_ms"],
        "suggestion_overhead_ratio": r["suggestion_overhead_ratio"],
        "live_lag_p95_ms": r["live"]["lag"]["p95_ms"],
        "loaded_over_idle_p95": r["live"]["loaded_ratio"],
        "import_share_of_reference": r.get("import_share_of_reference"),
        "peak_rss_mb": r["peak_rss_mb"],
        "failover_p95_ms": r["failover"]["failover"]["p95_ms"] if "failover" in r else None,
    }
    out = {}
    for key, target in TARGETS_1M.items():
        value = got[key]
        if value is None:
            continue  # no reference build (or no fail-over) in this run
        met = value >= target if key in AT_LEAST else value <= target
        out[key] = {"target": target, "measured": value, "met": met}
    return out


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def markdown(r: dict[str, Any]) -> str:
    imp, cmd, sug, raw_c, raw_s, live = r["import"], r["command"], r["suggestion"], r["raw_command"], r["raw_suggestion"], r["live"]
    engine = r.get("engine", "whoosh")
    size = imp.get("index_bytes", imp.get("whoosh_bytes", 0))
    lines = [
        f"## whoknows bench: {r['posts']:,} posts, {engine} index (seed {r['seed']}, {r['cpus']} CPUs)",
        "",
        "| measure | p50 | p95 | n | note |",
        "|---|---:|---:|---:|---|",
        f"| /whoknows topic, end to end | {cmd['p50_ms']} ms | {cmd['p95_ms']} ms | {cmd['n']} | 1-3 word topics, caller's permission filter, card rendered |",
        f"| raw {engine} retrieval, same topics | {raw_c['p50_ms']} ms | {raw_c['p95_ms']} ms | {raw_c['n']} | overhead ratio p95 {r['command_overhead_ratio']}x |",
        f"| inline suggestion, end to end | {sug['p50_ms']} ms | {sug['p95_ms']} ms | {sug['n']} | held-out questions; {r['suggested']} got a note |",
        f"| raw {engine} retrieval, same questions | {raw_s['p50_ms']} ms | {raw_s['p95_ms']} ms | {raw_s['n']} | overhead ratio p95 {r['suggestion_overhead_ratio']}x |",
        f"| live lag, post made to searchable | {live['lag']['p50_ms']} ms | {live['lag']['p95_ms']} ms | {live['lag']['n']} | "
        f"{live['posts_per_s']} posts/s + {live['reactions_per_s']} reactions/s; missing {live['missing']} |",
        f"| /whoknows, idle (from arrival) | {live['idle']['p50_ms']} ms | {live['idle']['p95_ms']} ms | {live['idle']['n']} | 10 requests/s, no traffic |",
        f"| /whoknows, during that traffic | {live['loaded']['p50_ms']} ms | {live['loaded']['p95_ms']} ms | {live['loaded']['n']} | "
        f"p95 {live['loaded_ratio']}x idle |",
        "",
        f"Import: {imp['posts']:,} posts in {imp['seconds']} s = **{imp['posts_per_s']:,} posts/s**; "
        f"index on disk {_mb(size)} {engine} + {_mb(imp['sqlite_bytes'])} SQLite ({imp['segments']} segments). "
        f"Peak RSS **{r['peak_rss_mb']} MB** (after import {r['rss_after_import_mb']} MB, before references {r['rss_before_references_mb']} MB).",
    ]
    fo = r.get("failover")
    if fo:
        f = fo["failover"]
        lines += ["", f"Leader fail-over, two replicas on PostgreSQL over the shared {engine} index ({fo['posts']:,} posts copied in "
                      f"{fo['copy_seconds']} s): kill -> events applied again p50 **{f['p50_ms']:,.0f} ms**, p95 **{f['p95_ms']:,.0f} ms** "
                      f"({fo['rounds']} kills); {fo['posts_committed']} posts the dead leaders committed, "
                      f"{fo['missing_after_take_over']} of them missing from the index after the take-over."]
    elif r.get("failover_skipped"):
        lines += ["", f"Leader fail-over not measured: {r['failover_skipped']}"]
    refs = r.get("references")
    if refs:
        lines += [
            "",
            f"References (same analysed terms, hidden channels and limit {r['limit']}; shared analysis {refs['analyse_seconds']} s not counted):",
            "",
            "| engine | build | size | topics p50 / p95 | questions p50 / p95 |",
            "|---|---:|---:|---:|---:|",
            f"| {engine} (whoknows import) | {imp['seconds']} s | {_mb(size)} | {raw_c['p50_ms']} / {raw_c['p95_ms']} ms | {raw_s['p50_ms']} / {raw_s['p95_ms']} ms |",
        ]
        for name, e in refs["engines"].items():
            t, q = e["topics"], e["questions"]
            lines.append(f"| {name} | {e['build_seconds']} s | {_mb(e['size_bytes'])} | {t['p50_ms']} / {t['p95_ms']} ms | {q['p50_ms']} / {q['p95_ms']} ms |")
    lines += ["", "Targets (set for 1M posts):", "", "| target | measured | met |", "|---|---:|---|"]
    for key, v in r["targets"].items():
        lines.append(f"| {key} {'>=' if key in AT_LEAST else '<='} {v['target']:g} | {v['measured']} | {'yes' if v['met'] else 'NO'} |")
    return "\n".join(lines)
