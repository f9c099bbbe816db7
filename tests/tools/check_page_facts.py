#!/usr/bin/env python3
"""Structural facts of blast's HTML pages (and their CSV and summary) that
a reader relies on at first sight. One line per broken fact, exit 1.

  check_page_facts.py failed PAGE SUMMARY         a run that failed
  check_page_facts.py fanout PAGE CSV JSON        a fan-out run's figures
  check_page_facts.py limit PAGE JSON SUMMARY     a --find-limit run (no --probe)
  check_page_facts.py axis PAGE CSV               time charts end with the run

Standard library only.
"""
import csv
import json
import re
import sys


def sections(page):
    return re.findall(r'<section id="([^"]+)"', page)


def svg(page, ident):
    m = re.search(r'<svg id="%s".*?</svg>' % re.escape(ident), page, re.S)
    return m.group(0) if m else ""


def failed(page, summary):
    bad = []
    s = sections(page)
    if not s or s[0] != "status":
        bad.append(f"the first section is {s[:1]}, not the status")
    if not re.search(r'<section id="status" class="status bad"><b>FAILED</b>', page):
        bad.append("the status does not say FAILED")
    if len(s) < 2 or s[1] != "errors":
        bad.append(f"errors by reason do not come right after the status: {s[:3]}")
    # No latency figure without a sample: no "0.0 us" card, an n/a one.
    if re.search(r'<div class="card[^"]*"><b>0\.0 us</b>', page):
        bad.append("a 0.0 us latency card")
    if '<div class="card na"><b>n/a</b><span>latency' not in page:
        bad.append("no n/a latency card")
    if 'class="ok">sent = acked + failed + unacked' in page:
        bad.append("the accounting is green on a failed run")
    if "<title>blast report: FAILED" not in page:
        bad.append("the title does not say FAILED")
    lines = summary.splitlines()
    if len(lines) < 2 or not lines[1].startswith("status       FAILED (exit status 1): "):
        bad.append(f"the summary's second line is not the status: {lines[1:2]}")
    return bad


def fanout(page, csv_path, json_path):
    bad = []
    rep = json.load(open(json_path))
    rows = list(csv.DictReader(open(csv_path)))
    for col in ("received", "expected", "missing", "e2e_count", "e2e_p50_us", "e2e_p99_us", "e2e_max_us"):
        if not rows or col not in rows[0]:
            bad.append(f"CSV has no {col} column")
    if bad:
        return bad
    for col, key in (("received", "received"), ("expected", "expected")):
        n = sum(int(r[col]) for r in rows)
        if n != rep[key]:
            bad.append(f"CSV {col} sums to {n}, the report says {rep[key]}")
    if int(rows[-1]["missing"]) != rep["missing"]:
        bad.append(f"CSV's last missing {rows[-1]['missing']}, the report says {rep['missing']}")
    n = sum(int(r["e2e_count"]) for r in rows)
    if n != rep["e2e_latency_us"]["count"]:
        bad.append(f"CSV e2e_count sums to {n}, the report counts {rep['e2e_latency_us']['count']}")
    for r in rows:
        if int(r["e2e_count"]) and not 0 < float(r["e2e_p50_us"]) <= float(r["e2e_p99_us"]) <= float(r["e2e_max_us"]):
            bad.append(f"row at {r['time_s']}: e2e percentiles out of order")
    if "fanout" not in sections(page):
        bad.append("no fan-out section")
    for what, value in (("received", rep["received"]), ("expected", rep["expected"]), ("missing", rep["missing"])):
        if f'<b>{value}</b><span>{what}</span>' not in page:
            bad.append(f"no {what} card showing {value}")
    if rep["e2e_latency_us"]["count"] and "<span>end-to-end p99</span>" not in page:
        bad.append("no end-to-end p99 card")
    for ident in ("chart-receipts", "chart-e2e", "chart-listeners"):
        if ident == "chart-e2e" and not rep["e2e_latency_us"]["count"]:
            continue
        if not svg(page, ident):
            bad.append(f"no {ident} chart")
    return bad


def limit(page, json_path, summary):
    bad = []
    rep = json.load(open(json_path))
    if "A trial passes when" not in page or "p99 &le; " not in page:
        bad.append("the page does not state the SLO")
    if "lost and" not in page and "of the messages due" not in page:
        bad.append("the page does not state the loss criterion")
    n = len(rep["trials"])
    b = svg(page, "chart-throughput").count('class="boundary"')
    if b != n:
        bad.append(f"{b} trial boundaries in the throughput chart, {n} trials")
    if [t.get("trial") for t in rep["trials"]] != list(range(1, n + 1)):
        bad.append("JSON trials are not numbered 1..n")
    ans = rep["limit"]["trial"] if rep.get("limit") else None
    if ans is not None:
        if f"<td>{ans} (answer)</td>" not in page:
            bad.append(f"the page's answer row is not trial {ans}")
        if not re.search(r"\(trial %d, " % ans, summary):
            bad.append(f"the summary does not name trial {ans}")
    if "stopped by confirmed" in summary or "stopped by ceiling" in summary:
        bad.append("the summary says 'stopped by' a search's end")
    if not rep["config"] or "<td>trial duration</td>" not in page or "<td>first trial</td>" not in page:
        bad.append("the configuration does not show the search's settings")
    if re.search(r"<td>rate</td><td>\d", page) or "<td>duration</td>" in page:
        bad.append("the configuration shows the answer's rate or duration as settings")
    # A run without --probe: no wire figure, n/a rather than 0.
    if True:
        if any(t["retransmits"] is not None or t["srtt_us"] is not None for t in rep["trials"]):
            bad.append("JSON trials have retransmits or srtt_us without the probe")
        row = re.search(r"<tr[^>]*><td>1</td>.*?</tr>", page)
        if not row or row.group(0).count('<td class="na">n/a</td>') < 2:
            bad.append("retransmits and srtt are not n/a without the probe")
    if 'td.verdict{min-width' not in page:
        bad.append("the verdict column may wrap a word per line")
    return bad


def axis(page, csv_path):
    rows = list(csv.DictReader(open(csv_path)))
    end = float(rows[-1]["time_s"])
    bad = []
    for ident in ("chart-throughput", "chart-latency", "chart-connections"):
        ticks = [float(v) for v in re.findall(r'text-anchor="middle">([0-9.]+)s</text>', svg(page, ident))]
        if not ticks:
            bad.append(f"{ident}: no time ticks")
        elif max(ticks) > end + 1e-9:
            bad.append(f"{ident}: the time axis runs to {max(ticks)} s, the run ended at {end} s")
    if "max-width:1000px" in page:
        bad.append("the page is capped at 1000 px")
    return bad


def main(argv):
    cmd, args = argv[0], argv[1:]
    read = lambda p: open(p, encoding="utf-8").read()
    if cmd == "failed":
        bad = failed(read(args[0]), read(args[1]))
    elif cmd == "fanout":
        bad = fanout(read(args[0]), args[1], args[2])
    elif cmd == "limit":
        bad = limit(read(args[0]), args[1], read(args[2]))
    elif cmd == "axis":
        bad = axis(read(args[0]), args[1])
    else:
        print(f"unknown check {cmd}")
        return 2
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
