#!/usr/bin/env python3
"""compare_table.py --gateway LABEL [--targets a,b,...] [--note TEXT ...] RESULT.json ...

Prints the compare.sh summary: one markdown table, a row per metric and a column per target (the mean
over that target's runs), then the gateway's ratios against nginx and against the best gateway peer
(the best of the targets other than direct, nginx and the gateway itself, picked per row).
Exit status 3 when any run had errors, a failed preflight or a --note; else 0.
"""

import argparse
import json
import sys

GATEWAY_PEERS_EXCLUDED = ("direct", "nginx")
# (scenario, field, row name, True if higher is better)
METRICS = [
    ("chat_c1", "rps", "chat c1 req/s", True),
    ("chat_c1", "p50", "chat c1 p50 ms", False),
    ("chat_c1", "p99", "chat c1 p99 ms", False),
    ("chat_c16", "rps", "chat c16 req/s", True),
    ("chat_c16", "p50", "chat c16 p50 ms", False),
    ("chat_c16", "p99", "chat c16 p99 ms", False),
    ("chat_c64", "rps", "chat c64 req/s", True),
    ("chat_c64", "p50", "chat c64 p50 ms", False),
    ("chat_c64", "p99", "chat c64 p99 ms", False),
    ("embed_c16", "rps", "embed c16 req/s", True),
    ("embed_c16", "p50", "embed c16 p50 ms", False),
    ("embed_c16", "p99", "embed c16 p99 ms", False),
    ("stream_c1", "ttft_p50", "stream c1 TTFT p50 ms", False),
    ("stream_c1", "ttft_p99", "stream c1 TTFT p99 ms", False),
    ("stream_c1", "total_p50", "stream c1 total p50 ms", False),
    ("stream_c16", "streams_per_s", "stream c16 streams/s", True),
    ("stream_c16", "ttft_p50", "stream c16 TTFT p50 ms", False),
    ("stream_c16", "ttft_p99", "stream c16 TTFT p99 ms", False),
    ("stream_c16", "total_p50", "stream c16 total p50 ms", False),
    ("chat_c1", "cpu_ms_per_req", "CPU ms/req chat c1", False),
    ("chat_c64", "cpu_ms_per_req", "CPU ms/req chat c64", False),
    ("embed_c16", "cpu_ms_per_req", "CPU ms/req embed c16", False),
    ("stream_c16", "cpu_ms_per_req", "CPU ms/stream c16", False),
    ("", "idle_rss", "RSS idle MB (before 1st run)", False),
    ("", "max_rss", "RSS max MB", False),
]


def value(run, scen, field):
    if field == "idle_rss":  # only a target's first run starts from idle
        return run["idle_rss_kb"] / 1024 if run.get("idle_rss_kb") and run.get("first") else None
    if field == "max_rss":
        m = max([v.get("max_rss_kb") or 0 for v in run["scen"].values()] or [0])
        return m / 1024 if m else None
    return run["scen"].get(scen, {}).get(field)


def errors(run):
    return sum(
        v.get("non2xx", 0) + v.get("sock_err", 0) + v.get("errors", 0) for v in run["scen"].values()
    )


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def num(x):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return "%.*f" % (0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2, x)


def spread(xs):
    """' ±N%' (half the range over the mean) when a target has several runs, else ''."""
    xs = [x for x in xs if x is not None]
    if len(xs) < 2 or not mean(xs):
        return ""
    return " ±%.0f%%" % (50.0 * (max(xs) - min(xs)) / mean(xs))


def ratio(a, b):
    if a is None or not b:
        return None
    r = a / b
    return "%.*f×" % (0 if r >= 100 else 1 if r >= 10 else 2, r)


def notes_for(label, runs):
    out = []
    for R in runs:
        for kind, p in (R.get("preflight") or {}).items():
            if not p.get("ok"):
                out.append(
                    "{}: preflight {} failed (HTTP {}): {}".format(
                        label, kind, p.get("status"), p.get("sample", "")[:160].replace("\n", " ")
                    )
                )
        if R.get("skipped"):
            out.append("{}: not loaded: {}".format(label, ", ".join(R["skipped"])))
        for name, v in R["scen"].items():
            if v.get("non2xx") or v.get("sock_err"):
                out.append(
                    "%s: %s had %d non-2xx responses and %d socket errors (connect/read/write/timeout)"
                    % (label, name, v.get("non2xx", 0), v.get("sock_err", 0))
                )
            if v.get("last_error"):
                out.append("{}: {} last error: {}".format(label, name, v["last_error"][:160]))
            lo, hi = v.get("content_chunks_min"), v.get("content_chunks_max")
            if lo is not None and lo != hi:
                out.append(f"{label}: {name} content chunks per stream varied {lo}..{hi}")
    return sorted(set(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True, help="label of the gateway under test")
    ap.add_argument(
        "--targets", help="column order, comma separated (default: order of first appearance)"
    )
    ap.add_argument(
        "--note", action="append", default=[], help="extra line printed under the table"
    )
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()

    by = {}
    for fn in a.files:
        with open(fn) as f:
            R = json.load(f)
        by.setdefault(R["label"], []).append(R)
    for runs in by.values():
        runs.sort(key=lambda R: R["time"])
        runs[0]["first"] = True
    targets = a.targets.split(",") if a.targets else list(by)
    targets = [t for t in targets if t]
    gw = a.gateway
    peers = [t for t in targets if t not in GATEWAY_PEERS_EXCLUDED and t != gw and by.get(t)]
    has_nginx = bool(by.get("nginx")) and gw != "nginx"

    hdr = ["metric"] + [
        "%s (%d run%s)" % (t, len(by.get(t, [])), "" if len(by.get(t, [])) == 1 else "s")
        if by.get(t)
        else f"{t} (no result)"
        for t in targets
    ]
    if has_nginx:
        hdr.append(f"{gw} ÷ nginx")
    if peers:
        hdr.append(f"{gw} ÷ best peer")
    lines = ["| " + " | ".join(hdr) + " |", "|---" + "|--:" * (len(hdr) - 1) + "|"]
    for scen, field, name, up in METRICS:
        means = {t: mean([value(R, scen, field) for R in by.get(t, [])]) for t in targets}
        if all(v is None for v in means.values()):
            continue
        row = [name + (" ↑" if up else " ↓")] + [
            num(means[t]) + spread([value(R, scen, field) for R in by.get(t, [])]) for t in targets
        ]
        g = means.get(gw)
        if has_nginx:
            row.append(ratio(g, means["nginx"]) or "-")
        if peers:
            cand = [(means[p], p) for p in peers if means[p] is not None]
            best = (max if up else min)(cand) if cand else None
            r = ratio(g, best[0]) if best else None
            row.append(f"{r} {best[1]}" if r else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append(
        "| errors (non-2xx + socket + stream) | "
        + " | ".join("/".join(str(errors(R)) for R in by[t]) if by.get(t) else "-" for t in targets)
        + " |"
        + " |" * (has_nginx + bool(peers))
    )
    print("\n".join(lines))
    print()
    print("↑ higher is better, ↓ lower is better.", end=" ")
    if has_nginx or peers:
        print(
            f"Ratios are {gw} ÷ the other: on ↑ rows above 1 means {gw} is ahead, on ↓ rows below 1 means {gw} is "
            "ahead."
        )
    else:
        print('No peer results, so no ratio columns (compare.sh --peers "nginx litellm portkey").')
    if peers:
        print(
            "Best peer = the best of {} on that row (nginx is the plain-proxy floor, shown separately).".format(
                ", ".join(peers)
            )
        )
    if any(len(rs) > 1 for rs in by.values()):
        print(
            "With several runs a cell is the mean, ±N% = half the range between runs over the mean."
        )
    print(
        "CPU ms and RSS are the target's own process tree (for direct: the mock). direct c1 is flattered by "
        "wrk and the mock sharing one core; stream c16 tops out near 2,200 streams/s in the Python client."
    )
    notes = [n for t in targets for n in notes_for(t, by.get(t, []))] + a.note
    if notes:
        print("\nProblems:")
        for n in notes:
            print("- " + n)
    return 3 if notes or any(errors(R) for rs in by.values() for R in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
