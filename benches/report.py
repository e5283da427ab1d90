#!/usr/bin/env python3
"""Turns the raw output of benches/load.sh into tables, a CSV and an SVG chart.

    python3 benches/report.py target/bench

Reads runs/manifest.csv (one wrk or, for the h2c scenario, h2load output file per run), runs/machine.txt and memory.csv
from that directory; writes results.md, results.csv and ratios.svg there and prints
results.md. Standard library only.
"""

import csv
import html
import re
import statistics
import sys
from pathlib import Path

BASELINE = "hyper"
# HTTP/2 needs hyper-util's auto builder: the h2c row's ratios are against it.
BASELINES = {"h2c": "hyper-auto"}
SCENARIO_TITLES = {
    "hello": "Hello world: `GET /`, 13 bytes of text/plain",
    "captures": "Two captures: `GET /users/42/posts/hello-world` (axum and bareasgi hold 1,000 more routes)",
    "stream": "Streaming: `GET /stream`, 1 MiB in 16 KiB chunks (chunked)",
    "layers": "Hello world through CorsLayer + CompressionLayer (tower-http): `GET /` with an `Origin` and `Accept-Encoding: gzip`",
    "h2c": "Hello world over HTTP/2 without TLS (h2c, prior knowledge) under h2load; ratios against bare hyper (hyper-util auto); h2load reports no percentiles, p50/p99 are its mean/max",
}
SERVER_TITLES = {
    "hyper": "bare hyper (http1)",
    "hyper-auto": "bare hyper (hyper-util auto)",
    "axum": "axum 0.8",
    "bareasgi": "bareasgi",
    "axum-layers": "axum 0.8 + CorsLayer + CompressionLayer",
    "bareasgi-layers": "bareasgi + CorsLayer + CompressionLayer",
    "bareasgi-no-ping": "bareasgi without HTTP/2 keep-alive pings",
    "python": "bareASGI on uvicorn (Python)",
}
COLOURS = {
    "hyper": "#4e79a7",
    "hyper-auto": "#a0cbe8",
    "axum": "#f28e2b",
    "bareasgi": "#59a14f",
    "axum-layers": "#ffbe7d",
    "bareasgi-layers": "#8cd17d",
    "bareasgi-no-ping": "#b6992d",
    "python": "#b07aa1",
}
TIME_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
SIZE_UNITS = {"B": 1 / 2**20, "KB": 1 / 2**10, "MB": 1.0, "GB": 2**10, "TB": 2**20}


def parse_wrk(text):
    """Requests/s, p50 and p99 in microseconds, MiB/s, and error counts of one wrk run."""

    def number(pattern, units=None):
        match = re.search(pattern, text, re.M)
        if not match:
            return None
        value = float(match.group(1))
        return value * units[match.group(2)] if units else value

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {
        "requests": int(number(r"^\s*(\d+) requests in") or 0),
        "rps": number(r"^Requests/sec:\s+([\d.]+)"),
        "p50": number(r"^\s+50%\s+([\d.]+)(us|ms|s|m|h)\b", TIME_UNITS),
        "p99": number(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\b", TIME_UNITS),
        "mib": number(r"^Transfer/sec:\s+([\d.]+)(B|KB|MB|GB|TB)\b", SIZE_UNITS),
        "non2xx": int(number(r"Non-2xx or 3xx responses:\s+(\d+)") or 0),
        "errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def parse_h2load(text):
    """The same fields from one h2load run (mean and max request time in place of p50/p99)."""
    finished = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s, ([\d.]+)(B|KB|MB|GB)/s", text)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    times = re.search(r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", text)
    if not (finished and done):
        return {"requests": 0, "rps": None}
    return {
        "requests": int(done.group(2)),
        "rps": float(finished.group(1)),
        "p50": float(times.group(5)) * TIME_UNITS[times.group(6)] if times else None,
        "p99": float(times.group(3)) * TIME_UNITS[times.group(4)] if times else None,
        "mib": float(finished.group(2)) * SIZE_UNITS[finished.group(3)],
        "non2xx": sum(int(n) for n in codes.groups()[1:]) if codes else 0,
        "errors": sum(int(n) for n in done.groups()[2:]),
    }


def median_of(values):
    values = list(values)
    return None if any(v is None for v in values) else statistics.median(values)


def fmt_latency(us):
    if us is None:
        return "–"
    return f"{us:.0f} µs" if us < 1000 else f"{us / 1000:.2f} ms"


def fmt_cpu(us):
    return "–" if us is None else f"{us:.2f} µs"


def fmt_ratio(value):
    return "–" if value is None else f"{value:.3f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def load_runs(out, clk_tck):
    runs = {}
    with open(out / "runs" / "manifest.csv") as manifest:
        for row in csv.DictReader(manifest):
            text = Path(row["file"]).read_text()
            result = parse_h2load(text) if row["scenario"] == "h2c" else parse_wrk(text)
            if result["rps"] is None:
                sys.exit(f"could not read the load generator's output in {row['file']}")
            # The server's utime + stime over the run (load.sh writes it beside wrk's output).
            cpu = Path(row["file"] + ".cpu")
            result["cpu_us"] = None
            if cpu.exists() and result["requests"]:
                result["cpu_us"] = int(cpu.read_text()) * 1e6 / clk_tck / result["requests"]
            runs.setdefault((row["scenario"], row["server"]), []).append(result)
    return runs


def summarise(runs):
    """Medians over rounds, with the ratios against bare hyper in the same scenario."""
    rows = []
    for (scenario, server), results in runs.items():
        rps = [r["rps"] for r in results]
        rows.append({
            "scenario": scenario,
            "server": server,
            "rounds": len(results),
            "rps": statistics.median(rps),
            "rps_min": min(rps),
            "rps_max": max(rps),
            "p50_us": median_of(r["p50"] for r in results),
            "p99_us": median_of(r["p99"] for r in results),
            "mib_s": statistics.median(r["mib"] for r in results),
            "non2xx": sum(r["non2xx"] for r in results),
            "errors": sum(r["errors"] for r in results),
            "cpu_us": statistics.median(r["cpu_us"] for r in results) if all(r["cpu_us"] for r in results) else None,
        })
    by_key = {(row["scenario"], row["server"]): row for row in rows}
    for row in rows:
        base = by_key.get((row["scenario"], BASELINES.get(row["scenario"], BASELINE)))
        row["rps_ratio"] = ratio(row["rps"], base and base["rps"])
        row["p99_ratio"] = ratio(row["p99_us"], base and base["p99_us"])
    order = list(SERVER_TITLES)
    scenarios = list(SCENARIO_TITLES)
    rows.sort(key=lambda r: (scenarios.index(r["scenario"]) if r["scenario"] in scenarios else 99,
                             order.index(r["server"]) if r["server"] in order else 99))
    return rows, by_key


def load_memory(out):
    path = out / "memory.csv"
    if not path.exists():
        return []
    rows = []
    with open(path) as f:
        for row in csv.DictReader(f):
            idle = int(row["idle_rss_kib"])
            conns = int(row["connections"])
            loaded = int(row["loaded_rss_kib"]) if row["loaded_rss_kib"] else None
            per_conn = (loaded - idle) / conns if conns and loaded is not None else None
            rows.append({"server": row["server"], "idle_kib": idle, "connections": conns,
                         "loaded_kib": loaded, "per_conn_kib": per_conn})
    return rows


def targets(by_key, memory):
    """Issue 5's targets that the load run can check: (target, measured, pass)."""
    checks = []

    def row(scenario, server):
        return by_key.get((scenario, server))

    hello_b, hello_h, hello_a = row("hello", "bareasgi"), row("hello", "hyper"), row("hello", "axum")
    if hello_b and hello_h:
        r = hello_b["rps"] / hello_h["rps"]
        checks.append(("Hello world ≥ 0.95× bare hyper req/s", f"{r:.3f}×", r >= 0.95))
        r = hello_b["p99_us"] / hello_h["p99_us"]
        checks.append(("Hello world p99 ≤ 1.10× bare hyper's", f"{r:.3f}× ({fmt_latency(hello_b['p99_us'])} vs {fmt_latency(hello_h['p99_us'])})", r <= 1.10))
    if hello_b and hello_a:
        r = hello_b["rps"] / hello_a["rps"]
        checks.append(("Hello world ahead of axum", f"{r:.3f}× axum", r > 1.0))
    captures_b = row("captures", "bareasgi")
    if captures_b and hello_h:
        r = captures_b["rps"] / hello_h["rps"]
        checks.append(("Two captures, 1,000 routes ≥ 0.90× bare hyper's hello req/s", f"{r:.3f}×", r >= 0.90))
    stream_b, stream_h = row("stream", "bareasgi"), row("stream", "hyper")
    if stream_b and stream_h:
        r = stream_b["mib_s"] / stream_h["mib_s"]
        checks.append(("Streaming ≥ 0.95× bare hyper's throughput", f"{r:.3f}×", r >= 0.95))
    layers_b, layers_a = row("layers", "bareasgi-layers"), row("layers", "axum-layers")
    if layers_b and layers_a and layers_b["cpu_us"] and layers_a["cpu_us"]:
        r = layers_b["cpu_us"] / layers_a["cpu_us"]
        checks.append(("Issue 10: through CorsLayer + CompressionLayer, server CPU per request ≤ axum's",
                       f"{r:.3f}× ({layers_b['cpu_us']:.2f} µs vs {layers_a['cpu_us']:.2f} µs)", r <= 1.0))
    h2c_b, h2c_a = row("h2c", "bareasgi"), row("h2c", "axum")
    if h2c_b and h2c_a and h2c_b["cpu_us"] and h2c_a["cpu_us"]:
        r = h2c_b["cpu_us"] / h2c_a["cpu_us"]
        checks.append(("Issue 15: h2c server CPU per request ≤ axum's",
                       f"{r:.3f}× ({h2c_b['cpu_us']:.2f} µs vs {h2c_a['cpu_us']:.2f} µs)", r <= 1.0))
    hello_p = row("hello", "python")
    if hello_b and hello_p:
        r = hello_b["rps"] / hello_p["rps"]
        checks.append(("Hello world ≥ 10× Python bareASGI on uvicorn", f"{r:.1f}×", r >= 10))
    for m in memory:
        if m["server"] != "bareasgi":
            continue
        checks.append(("Hello server idle RSS < 10 MiB", f"{m['idle_kib'] / 1024:.1f} MiB", m["idle_kib"] < 10 * 1024))
        if m["per_conn_kib"] is not None:
            checks.append(("Idle keep-alive connection < 16 KiB RSS", f"{m['per_conn_kib']:.1f} KiB", m["per_conn_kib"] < 16))
    return checks


def markdown(machine, rows, memory, checks):
    lines = ["# Load benchmark: bare hyper, axum and bareasgi", ""]
    lines.append(f"{machine.get('date', '')}. {machine.get('settings', '')}; medians over the rounds, "
                 "ratios against bare hyper (http1) measured in the same run.")
    lines.append("")
    lines.append(f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, {machine.get('kernel', '')}; "
                 f"{machine.get('rustc', '')}; wrk {machine.get('wrk', '')}"
                 + (f"; {machine['h2load']}" if "h2load" in machine else "")
                 + (f"; Python {machine['python']}" if "python" in machine else "")
                 + f". Load average before the run: {machine.get('load', '?')}.")
    for scenario in [s for s in SCENARIO_TITLES if any(r["scenario"] == s for r in rows)]:
        lines += ["", f"## {SCENARIO_TITLES[scenario]}", ""]
        lines.append("| server | req/s | vs hyper | range over rounds | p50 | p99 | p99 vs hyper | transfer | server CPU/request |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in (r for r in rows if r["scenario"] == scenario):
            flag = ""
            if r["non2xx"] or r["errors"]:
                flag = f" ⚠ {r['non2xx']} non-2xx, {r['errors']} socket errors"
            lines.append(
                f"| {SERVER_TITLES.get(r['server'], r['server'])}{flag} | {r['rps']:,.0f} | {fmt_ratio(r['rps_ratio'])} "
                f"| {r['rps_min']:,.0f}–{r['rps_max']:,.0f} | {fmt_latency(r['p50_us'])} | {fmt_latency(r['p99_us'])} "
                f"| {fmt_ratio(r['p99_ratio'])} | {r['mib_s']:,.1f} MiB/s | {fmt_cpu(r['cpu_us'])} |")
    if memory:
        conns = max(m["connections"] for m in memory)
        lines += ["", "## Memory (VmRSS)", "",
                  f"Idle: after start-up and one request. Then {conns:,} idle keep-alive connections, each after one "
                  "request; per connection = the growth divided by their number (kernel socket buffers are not in RSS).",
                  "", "| server | idle | with the connections | per connection |", "|---|---:|---:|---:|"]
        for m in memory:
            loaded = f"{m['loaded_kib'] / 1024:.1f} MiB" if m["loaded_kib"] is not None else "–"
            per = f"{m['per_conn_kib']:.1f} KiB" if m["per_conn_kib"] is not None else "–"
            lines.append(f"| {SERVER_TITLES.get(m['server'], m['server'])} | {m['idle_kib'] / 1024:.1f} MiB | {loaded} | {per} |")
    if checks:
        lines += ["", "## Targets", "", "| target | measured | |", "|---|---:|---|"]
        for name, measured, ok in checks:
            lines.append(f"| {name} | {measured} | {'✅' if ok else '❌'} |")
        lines += ["", "Router lookup with 1,000 routes against 10: `cargo bench --bench router` prints it."]
    return "\n".join(lines) + "\n"


def svg_chart(rows):
    """Grouped bars: each server's req/s as a multiple of bare hyper's, per scenario."""
    scenarios = [s for s in SCENARIO_TITLES if any(r["scenario"] == s and r["rps_ratio"] for r in rows)]
    servers = [s for s in SERVER_TITLES if any(r["server"] == s for r in rows)]
    if not scenarios:
        return None
    width, height = 760, 400
    left, right, top, bottom = 60, 90, 50, 80
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(1.2, max(r["rps_ratio"] for r in rows if r["rps_ratio"]) * 1.08)
    y = lambda v: top + plot_h * (1 - v / top_value)  # noqa: E731
    group_w = plot_w / len(scenarios)
    bar_w = min(40, group_w * 0.8 / max(1, len(servers)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">Requests/s as a multiple of bare hyper\'s (same run)</text>']
    tick = 0.0
    while tick <= top_value + 1e-9:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
        tick += 0.2
    for value, colour, label, dy in ((1.0, "#333", "1 = bare hyper", -3), (0.95, "#c00", "0.95 target", 11)):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                   f'stroke="{colour}" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{width - right + 4}" y="{y(value) + dy:.1f}" fill="{colour}" font-size="11">{label}</text>')
    for g, scenario in enumerate(scenarios):
        present = [s for s in servers if any(r["scenario"] == scenario and r["server"] == s for r in rows)]
        x0 = left + g * group_w + (group_w - bar_w * len(present)) / 2
        for i, server in enumerate(present):
            r = next(r for r in rows if r["scenario"] == scenario and r["server"] == server)
            v = r["rps_ratio"] or 0
            x = x0 + i * bar_w
            out.append(f'<rect x="{x + 2:.1f}" y="{y(v):.1f}" width="{bar_w - 4:.1f}" height="{y(0) - y(v):.1f}" '
                       f'fill="{COLOURS.get(server, "#999")}"><title>{html.escape(server)}: {v:.3f}</title></rect>')
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y(v) - 4:.1f}" text-anchor="middle" font-size="10">{v:.2f}</text>')
        out.append(f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{y(0) + 18:.1f}" text-anchor="middle">{scenario}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333"/>')
    lx = left
    for server in servers:
        out.append(f'<rect x="{lx}" y="{height - 30}" width="12" height="12" fill="{COLOURS.get(server, "#999")}"/>')
        label = html.escape(SERVER_TITLES.get(server, server))
        out.append(f'<text x="{lx + 16}" y="{height - 20}">{label}</text>')
        lx += 28 + 6.3 * len(label)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench")
    machine = {}
    machine_file = out / "runs" / "machine.txt"
    if machine_file.exists():
        for line in machine_file.read_text().splitlines():
            key, _, value = line.partition("=")
            machine[key] = value
    rows, by_key = summarise(load_runs(out, int(machine.get("clk_tck", "100"))))
    memory = load_memory(out)
    checks = targets(by_key, memory)

    with open(out / "results.csv", "w", newline="") as f:
        fields = ["scenario", "server", "rounds", "rps", "rps_min", "rps_max", "rps_ratio",
                  "p50_us", "p99_us", "p99_ratio", "mib_s", "non2xx", "errors", "cpu_us"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    report = markdown(machine, rows, memory, checks)
    (out / "results.md").write_text(report)
    chart = svg_chart(rows)
    if chart:
        (out / "ratios.svg").write_text(chart)
    print(report)
    print(f"Written: {out / 'results.md'}, {out / 'results.csv'}, {out / 'memory.csv'}"
          + (f", {out / 'ratios.svg'}" if chart else ""))


if __name__ == "__main__":
    main()
