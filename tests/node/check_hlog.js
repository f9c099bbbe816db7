// Reads a blast --hlog file with HdrHistogram's own JavaScript port
// (hdr-histogram-js: HistogramLogReader) and checks it against the run's
// --csv and --report files: one interval per CSV row, the same counts, and
// the same percentiles per second and for the whole run.
//
// A reader knows only buckets, so it reports a percentile as the highest
// value of its bucket, where blast clamps to the exact max it saw: a blast
// figure v matches the reader's r when lowestEquivalent(r) <= v <= r.
//
// usage: node check_hlog.js RUN.hlog RUN.csv RUN.json   (exit 0 ok, 1 not)
'use strict';
const fs = require('fs');
const path = require('path');
const hdr = require(path.join(__dirname, 'node_modules', 'hdr-histogram-js'));

const [hlogPath, csvPath, jsonPath] = process.argv.slice(2);
let failures = 0;
function fail(msg) {
	console.error('check_hlog: ' + msg);
	failures++;
}

const text = fs.readFileSync(hlogPath, 'utf8');
const reader = new hdr.HistogramLogReader(text);
const csv = fs.readFileSync(csvPath, 'utf8').trim().split('\n');
const head = csv.shift().split(',');
const col = (name) => head.indexOf(name);
const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));

const all = hdr.build({ bitBucketSize: 64, lowestDiscernibleValue: 1,
	highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });

function same(what, h, blastUs, p) {
	const r = h.getValueAtPercentile(p);
	const v = Math.round(blastUs * 1000);
	if (!(h.lowestEquivalentValue(r) <= v && v <= r))
		fail(`${what} p${p}: blast ${v} ns, HdrHistogram ${r} ns`);
}

const startLine = text.split('\n').find((l) => l.startsWith('#[StartTime: '));
const startSec = startLine ? parseFloat(startLine.split(' ')[1]) : NaN;
if (!(Math.abs(startSec - Date.now() / 1000) < 3600))
	fail(`StartTime ${startSec} is not within an hour of now`);

let n = 0, h;
while ((h = reader.nextIntervalHistogram()) !== null) {
	if (n >= csv.length) {
		fail(`interval ${n + 1} has no CSV row`);
		break;
	}
	const row = csv[n].split(',').map(Number);
	const what = `second ${n + 1}`;
	if (h.totalCount !== row[col('latency_count')])
		fail(`${what}: ${h.totalCount} values in the hlog, ${row[col('latency_count')]} in the CSV`);
	// The interval ends where the CSV's row does (both seconds since the start).
	const end = (h.endTimeStampMsec / 1000) - startSec;
	if (Math.abs(end - row[col('time_s')]) > 0.002)
		fail(`${what}: hlog interval ends at ${end.toFixed(3)} s, CSV row at ${row[col('time_s')]} s`);
	if (h.totalCount > 0) {
		same(what, h, row[col('p50_us')], 50);
		same(what, h, row[col('p90_us')], 90);
		same(what, h, row[col('p99_us')], 99);
		same(what, h, row[col('p999_us')], 99.9);
		same(what, h, row[col('max_us')], 100);
	}
	all.add(h);
	n++;
}
if (n !== csv.length)
	fail(`${n} intervals in the hlog, ${csv.length} CSV rows`);
const lat = report.latency_us;
if (all.totalCount !== lat.count)
	fail(`the intervals hold ${all.totalCount} values, the report counts ${lat.count}`);
same('whole run', all, lat.p50, 50);
same('whole run', all, lat.p90, 90);
same('whole run', all, lat.p99, 99);
same('whole run', all, lat.p999, 99.9);
same('whole run', all, lat.max, 100);
console.log(`check_hlog: ${n} intervals, ${all.totalCount} values; p50 ${all.getValueAtPercentile(50)} ns ` +
	`p99 ${all.getValueAtPercentile(99)} ns p99.9 ${all.getValueAtPercentile(99.9)} ns (HdrHistogram's reader)`);
process.exit(failures ? 1 : 0);
