#!/usr/bin/env python3
"""Side-by-side load scenario for an OpenAI-compatible gateway (or the mock upstream itself).

Usage:  bench.py BASE_URL LABEL [--pids PID[,PID]] [--header 'K: V' ...] [--model M] [--embed-model M]
                 [--outdir DIR | --json FILE] [--skip-failed]

BASE_URL is the prefix in front of /chat/completions, e.g. http://127.0.0.1:4000/v1.
Only 127.0.0.1 / localhost targets are accepted.  Every load step is bounded in count and time.

Scenario (fixed, ~75 s):
  preflight   1 chat, 1 stream, 1 embeddings request; shapes validated
  warmup      wrk chat c=4 $BENCH_WARM s (default 3), embed c=4 1 s, 40 streams c=4 (not reported)
  chat c1/c16/c64   wrk -t1 -cC -d$BENCH_DUR (default 8 s) POST /chat/completions (non-stream)
  embed c16         wrk -t1 -c16 -d$BENCH_DUR POST /embeddings
  stream c1   200 streams sequentially (cap 20 s), aiohttp client: TTFT + total
  stream c16  800 streams, 16 in flight (cap 20 s)

Per scenario the gateway process tree (--pids, plus descendants) is sampled every 0.2 s for RSS (max)
and its CPU time delta is recorded -> CPU ms per request.

--skip-failed: a kind (chat, stream, embed) whose preflight request failed is not loaded; its scenarios
are recorded under "skipped".  Exit status 3 when any preflight failed, else 0.
Results: --json FILE, or DIR/LABEL-HHMMSS.json with DIR = --outdir (default $BENCH_HOME/results).
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

try:
    import aiohttp
except ImportError:  # the load steps need the harness venv
    aiohttp = None

DUR = int(os.environ.get("BENCH_DUR", "8"))
WARM = int(os.environ.get("BENCH_WARM", "3"))
WRK_TIMEOUT = "5s"
CLK_TCK = os.sysconf("SC_CLK_TCK")

CHAT_BODY = {
    "model": None,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Say hello in one short sentence."},
    ],
    "max_tokens": 64,
}
EMBED_BODY = {"model": None, "input": "The quick brown fox jumps over the lazy dog"}


# ------------------------------------------------------------------ process tree sampling
def _children_map():
    m = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rfind(")") + 2 :].split()[1])
            m.setdefault(ppid, []).append(int(d))
        except Exception:
            pass
    return m


def tree(pids):
    if not pids:
        return []
    m = _children_map()
    out, stack = [], list(pids)
    while stack:
        p = stack.pop()
        if p in out:
            continue
        out.append(p)
        stack.extend(m.get(p, []))
    return out


def rss_kb(pids):
    tot = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        tot += int(line.split()[1])
                        break
        except Exception:
            pass
    return tot


def cpu_s(pids):
    tot = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
            fields = s[s.rfind(")") + 2 :].split()
            tot += int(fields[11]) + int(fields[12])  # utime + stime
        except Exception:
            pass
    return tot / CLK_TCK


class Sampler:
    def __init__(self, root_pids):
        self.root = root_pids
        self.max_rss = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.pids = tree(self.root)
        self.cpu0 = cpu_s(self.pids)
        self.max_rss = rss_kb(self.pids)
        if self.root:
            self._t = threading.Thread(target=self._run, daemon=True)
            self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.2):
            self.max_rss = max(self.max_rss, rss_kb(tree(self.root)))

    def __exit__(self, *a):
        self._stop.set()
        pids = tree(self.root)
        # a process that exited takes its CPU time with it: no figure rather than a wrong one
        alive = all(os.path.exists("/proc/%d" % p) for p in self.root)
        self.cpu = (
            cpu_s(list(set(pids) | set(self.pids))) - self.cpu0 if self.root and alive else None
        )


# ------------------------------------------------------------------ wrk
def _lua(body, headers):
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = [==[{json.dumps(body)}]==]",
        'wrk.headers["Content-Type"] = "application/json"',
    ]
    for k, v in headers.items():
        lines.append(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(tok):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", tok)
    return float(m.group(1)) * _UNIT[m.group(2)] if m else None


def run_wrk(url, body, headers, conns, dur):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_lua(body, headers))
        lua = f.name
    cmd = [
        "wrk",
        "-t1",
        "-c%d" % conns,
        "-d%ds" % dur,
        "--latency",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        lua,
        url,
    ]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=dur + 30)
    finally:
        os.unlink(lua)
    out = p.stdout
    r = {"cmd": " ".join([*cmd[:-3], "<script>", url]), "raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    if r["rps"] is None:  # e.g. "unable to connect to 127.0.0.1:8000 Connection refused" (exit 1)
        r["errors"] = 1
        r["last_error"] = ("wrk exit %d: %s" % (p.returncode, (p.stderr or out).strip()))[:200]
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        r["p" + pct] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["sock_err"] = sum(int(x) for x in m.groups()) if m else 0
    return r


# ------------------------------------------------------------------ streaming client
def _pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


async def _one_stream(sess, url, body, headers, out):
    t0 = time.perf_counter()
    ttft = None
    events = content = 0
    done = False
    try:
        async with sess.post(url, data=body, headers=headers) as resp:
            if resp.status != 200:
                await resp.read()
                out["errors"] += 1
                out["last_error"] = "HTTP %d" % resp.status
                return
            async for line in resp.content:
                if not line.startswith(b"data:"):
                    continue
                if ttft is None:
                    ttft = time.perf_counter() - t0
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    done = True
                    break
                events += 1
                if b'"content":"tok' in payload or b'"content": "tok' in payload:
                    content += 1
    except Exception as e:
        out["errors"] += 1
        out["last_error"] = (f"{type(e).__name__}: {e}")[:200]
        return
    total = time.perf_counter() - t0
    if not done:
        out["errors"] += 1
        out["last_error"] = "stream ended without [DONE]"
        return
    out["ttft"].append(ttft * 1000)
    out["total"].append(total * 1000)
    out["events"].append(events)
    out["content"].append(content)


async def stream_load(url, body, headers, n, conc, cap_s):
    out = {"ttft": [], "total": [], "events": [], "content": [], "errors": 0, "last_error": None}
    conn = aiohttp.TCPConnector(limit=conc, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    hdrs = dict(headers, **{"Content-Type": "application/json"})
    data = json.dumps(body).encode()
    deadline = time.perf_counter() + cap_s
    issued = 0
    t0 = time.perf_counter()
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as sess:

        async def worker():
            nonlocal issued
            while issued < n and time.perf_counter() < deadline:
                issued += 1
                await _one_stream(sess, url, data, hdrs, out)

        await asyncio.gather(*(worker() for _ in range(conc)))
    wall = time.perf_counter() - t0
    ok = len(out["total"])
    return {
        "n_issued": issued,
        "n_ok": ok,
        "errors": out["errors"],
        "last_error": out["last_error"],
        "streams_per_s": ok / wall if wall else None,
        "ttft_p50": _pct(out["ttft"], 50),
        "ttft_p99": _pct(out["ttft"], 99),
        "total_p50": _pct(out["total"], 50),
        "total_p99": _pct(out["total"], 99),
        "events_min": min(out["events"]) if out["events"] else None,
        "content_chunks_min": min(out["content"]) if out["content"] else None,
        "content_chunks_max": max(out["content"]) if out["content"] else None,
    }


# ------------------------------------------------------------------ preflight
def _check_chat(status, raw, _ctype):
    try:
        j = json.loads(raw)
        ok = (
            status == 200
            and j["object"] == "chat.completion"
            and j["choices"][0]["message"]["content"].startswith("This is a mock")
        )
    except Exception:
        ok = False
    return {"ok": ok}


def _check_stream(status, raw, ctype):
    evs = [ln[5:].strip() for ln in raw.split(b"\n") if ln.startswith(b"data:")]
    return {
        "ok": status == 200 and bool(evs) and evs[-1] == b"[DONE]",
        "events": len(evs),
        "content_chunks": sum(1 for e in evs if b'"tok' in e),
        "ctype": ctype,
    }


def _check_embed(status, raw, _ctype):
    try:
        j = json.loads(raw)
        emb = j["data"][0]["embedding"]
        ok = status == 200 and j["object"] == "list" and (len(emb) == 1536 or isinstance(emb, str))
        dim = len(emb) if isinstance(emb, list) else "base64"
    except Exception:
        ok, dim = False, None
    return {"ok": ok, "dim": dim}


async def preflight(base, headers, model, emodel):
    """One request of each kind; a connection error counts as a failed preflight, not a crash."""
    hdrs = dict(headers, **{"Content-Type": "application/json"})
    checks = (
        ("chat", "/chat/completions", dict(CHAT_BODY, model=model), _check_chat),
        ("stream", "/chat/completions", dict(CHAT_BODY, model=model, stream=True), _check_stream),
        ("embed", "/embeddings", dict(EMBED_BODY, model=emodel), _check_embed),
    )
    res = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as s:
        for kind, path, body, check in checks:
            try:
                async with s.post(base + path, json=body, headers=hdrs) as r:
                    raw = await r.read()
                    res[kind] = dict(
                        check(r.status, raw, r.headers.get("content-type")),
                        status=r.status,
                        bytes=len(raw),
                        sample=raw[:300].decode("utf-8", "replace"),
                    )
            except Exception as e:
                res[kind] = dict(
                    check(None, b"", None), ok=False, status=None, bytes=0, sample=repr(e)[:300]
                )
    return res


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("label")
    ap.add_argument("--pids", default="", help="comma separated root pids of the gateway (RSS/CPU)")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--model", default=os.environ.get("BENCH_MODEL", "gpt-4o-mini"))
    ap.add_argument(
        "--embed-model", default=os.environ.get("BENCH_EMBED_MODEL", "text-embedding-3-small")
    )
    ap.add_argument(
        "--outdir",
        default=os.path.join(os.environ.get("BENCH_HOME", "/tmp/aiport-bench"), "results"),
    )
    ap.add_argument(
        "--json", help="write the results to this file (default: OUTDIR/LABEL-HHMMSS.json)"
    )
    ap.add_argument(
        "--skip-failed", action="store_true", help="do not load a kind whose preflight failed"
    )
    a = ap.parse_args()
    if aiohttp is None:
        sys.exit(
            "bench.py needs aiohttp: run it with $BENCH_HOME/harness/bin/python (setup.sh installs it)"
        )

    base = a.base.rstrip("/")
    host = urllib.parse.urlparse(base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing non-loopback target {host!r}")
    headers = {}
    for h in a.header:
        k, v = h.split(":", 1)
        headers[k.strip()] = v.strip()
    pids = [int(p) for p in a.pids.split(",") if p.strip()]

    R = {
        "label": a.label,
        "base": base,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "affinity": sorted(os.sched_getaffinity(0)),
        "dur_s": DUR,
        "scen": {},
    }
    print(
        "== {}  {}  (driver CPUs {}, gateway pids {})".format(a.label, base, R["affinity"], pids),
        flush=True,
    )

    R["idle_rss_kb"] = rss_kb(tree(pids)) if pids else None
    R["preflight"] = asyncio.run(preflight(base, headers, a.model, a.embed_model))
    for k, v in R["preflight"].items():
        print(
            "  preflight %-6s status=%s ok=%s bytes=%s %s"
            % (
                k,
                v["status"],
                v["ok"],
                v["bytes"],
                (
                    "events={} content={} ctype={}".format(
                        v["events"], v["content_chunks"], v["ctype"]
                    )
                )
                if k == "stream"
                else ("dim={}".format(v["dim"]) if k == "embed" else ""),
            ),
            flush=True,
        )
        if not v["ok"]:
            print("    sample:", v["sample"][:300], flush=True)

    chat = dict(CHAT_BODY, model=a.model)
    emb = dict(EMBED_BODY, model=a.embed_model)
    pre_ok = {k: v["ok"] for k, v in R["preflight"].items()}
    run_kind = {k: ok or not a.skip_failed for k, ok in pre_ok.items()}
    R["skipped"] = []
    # warmup (not reported): some gateways lazy-import code paths on first requests
    t0 = time.time()
    if run_kind["chat"]:
        run_wrk(base + "/chat/completions", chat, headers, 4, WARM)
    if run_kind["embed"]:
        run_wrk(base + "/embeddings", emb, headers, 4, max(1, WARM // 2))
    if run_kind["stream"]:
        asyncio.run(
            stream_load(
                base + "/chat/completions",
                dict(CHAT_BODY, model=a.model, stream=True),
                headers,
                40,
                4,
                10,
            )
        )
    print("  warmup done (%.1fs)" % (time.time() - t0), flush=True)

    def scen(name, fn, nreq_key):
        kind = name.split("_")[0]
        if not run_kind[kind]:
            R["skipped"].append(name)
            print("  %-10s skipped (preflight %s failed)" % (name, kind), flush=True)
            return
        with Sampler(pids) as s:
            r = fn()
        r["max_rss_kb"] = s.max_rss if pids else None
        r["cpu_s"] = s.cpu
        n = r.get(nreq_key) or 0
        r["cpu_ms_per_req"] = (s.cpu * 1000 / n) if (s.cpu is not None and n) else None
        R["scen"][name] = r
        if "rps" in r:
            print(
                "  %-10s rps=%8.1f p50=%7.2fms p99=%7.2fms non2xx=%d sockerr=%d cpu/req=%s rss=%s %s"
                % (
                    name,
                    r["rps"] or 0,
                    r["p50"] or -1,
                    r["p99"] or -1,
                    r["non2xx"],
                    r["sock_err"],
                    "{:.2f}ms".format(r["cpu_ms_per_req"]) if r["cpu_ms_per_req"] else "-",
                    "%dMB" % (r["max_rss_kb"] // 1024) if r["max_rss_kb"] else "-",
                    r.get("last_error") or "",
                ),
                flush=True,
            )
        else:
            print(
                "  %-10s ok=%d err=%d streams/s=%.1f ttft p50=%.2fms p99=%.2fms total p50=%.2fms p99=%.2fms "
                "chunks=%s..%s cpu/stream=%s rss=%s %s"
                % (
                    name,
                    r["n_ok"],
                    r["errors"],
                    r["streams_per_s"] or 0,
                    r["ttft_p50"] or -1,
                    r["ttft_p99"] or -1,
                    r["total_p50"] or -1,
                    r["total_p99"] or -1,
                    r["content_chunks_min"],
                    r["content_chunks_max"],
                    "{:.2f}ms".format(r["cpu_ms_per_req"]) if r["cpu_ms_per_req"] else "-",
                    "%dMB" % (r["max_rss_kb"] // 1024) if r["max_rss_kb"] else "-",
                    ("last_error=" + r["last_error"]) if r["last_error"] else "",
                ),
                flush=True,
            )

    for c in (1, 16, 64):
        scen(
            "chat_c%d" % c,
            lambda c=c: run_wrk(base + "/chat/completions", chat, headers, c, DUR),
            "requests",
        )
    scen("embed_c16", lambda: run_wrk(base + "/embeddings", emb, headers, 16, DUR), "requests")
    sbody = dict(CHAT_BODY, model=a.model, stream=True)
    scen(
        "stream_c1",
        lambda: asyncio.run(stream_load(base + "/chat/completions", sbody, headers, 200, 1, 20)),
        "n_ok",
    )
    scen(
        "stream_c16",
        lambda: asyncio.run(stream_load(base + "/chat/completions", sbody, headers, 800, 16, 20)),
        "n_ok",
    )
    R["end_rss_kb"] = rss_kb(tree(pids)) if pids else None

    fn = a.json or os.path.join(a.outdir, "{}-{}.json".format(a.label, time.strftime("%H%M%S")))
    os.makedirs(os.path.dirname(os.path.abspath(fn)), exist_ok=True)
    for v in R["scen"].values():
        v.pop("raw", None)
    with open(fn, "w") as f:
        json.dump(R, f, indent=1)
    print(f"  -> {fn}")
    print(table([R]))
    return 0 if all(pre_ok.values()) else 3


def table(runs):
    hdr = (
        "| run | chat c1 rps | c1 p50/p99 ms | chat c16 rps | c16 p50/p99 ms | chat c64 rps | c64 p50/p99 ms "
        "| stream c1 TTFT p50/p99 ms | c1 total p50 ms | stream c16 TTFT p50/p99 ms | c16 total p50 ms "
        "| c16 streams/s | embed c16 rps | embed p50/p99 ms | RSS before run MB | max RSS MB | errors |"
    )
    lines = [hdr, "|" + "---|" * (hdr.count("|") - 1)]

    def f(x, d=1):
        return "-" if x is None else ("%.*f" % (d, x))

    for R in runs:
        s = {
            k: R["scen"].get(k, {})
            for k in ("chat_c1", "chat_c16", "chat_c64", "embed_c16", "stream_c1", "stream_c16")
        }

        def one(sc, k, d, s=s):
            return f(s[sc].get(k), d)

        def two(sc, k1, k2):
            return f"{one(sc, k1, 2)} / {one(sc, k2, 2)}"

        errs = sum(
            (v.get("non2xx", 0) + v.get("sock_err", 0) + v.get("errors", 0)) for v in s.values()
        )
        maxrss = max([v.get("max_rss_kb") or 0 for v in s.values()] or [0])
        row = [
            R["label"] + " " + R["time"][11:],
            one("chat_c1", "rps", 0),
            two("chat_c1", "p50", "p99"),
            one("chat_c16", "rps", 0),
            two("chat_c16", "p50", "p99"),
            one("chat_c64", "rps", 0),
            two("chat_c64", "p50", "p99"),
            two("stream_c1", "ttft_p50", "ttft_p99"),
            one("stream_c1", "total_p50", 2),
            two("stream_c16", "ttft_p50", "ttft_p99"),
            one("stream_c16", "total_p50", 2),
            one("stream_c16", "streams_per_s", 0),
            one("embed_c16", "rps", 0),
            two("embed_c16", "p50", "p99"),
            f(R["idle_rss_kb"] / 1024 if R.get("idle_rss_kb") else None, 0),
            f(maxrss / 1024 if maxrss else None, 0),
            str(errs),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
