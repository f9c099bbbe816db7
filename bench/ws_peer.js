// The fan-out run of bench/ws.sh done with the npm `ws` package (Debian
// node-ws; run with NODE_PATH=/usr/share/nodejs). Same work and output as
// bench/ws_peer.py: S publisher connections send M messages in all, K more
// connections only listen, every connection counts its receipts (payloads
// start "PEER <run> <seq> <hrtime ns>") and times them end to end; the run
// ends when M x (S + K) receipts are in, or at --timeout.
//
//   node bench/ws_peer.js --url ws://127.0.0.1:PORT/ --publishers 2 \
//        --listeners 1 --messages 100000 --payload-size 58
//
// Prints: sent= expected= received= missing= duplicates= other= batch_s=
// send_s= p50_us= p99_us= cpu_s=. Exit 0 when nothing is missing, 1
// otherwise, 2 on bad arguments.
'use strict';
const WebSocket = require('ws');

function usage(msg) {
	process.stderr.write(`ws_peer.js: ${msg}\n`);
	process.exit(2);
}

const a = { subprotocol: 'lws-mirror-protocol', publishers: 1, listeners: 1, 'payload-size': 58, timeout: 60 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
	const k = argv[i].replace(/^--/, '');
	if (!(k in a) && k !== 'url' && k !== 'messages') usage(`unknown option ${argv[i]}`);
	if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
	a[k] = k === 'url' || k === 'subprotocol' ? argv[i + 1] : Number(argv[i + 1]);
}
const S = a.publishers, K = a.listeners, M = a.messages, size = a['payload-size'];
if (!a.url || !(M >= 1) || !(S >= 1) || !(K >= 0)) usage('--url, --messages >= 1, --publishers >= 1 needed');

const run = (process.pid ^ Number(process.hrtime.bigint() & 0xffffffn)).toString(16).padStart(8, '0');
const prefix = `PEER ${run} `;
if (`${prefix}${M} ${process.hrtime.bigint()} `.length > size) usage(`--payload-size ${size} is below the header`);
const expected = M * (S + K);
let left = expected, sent = 0, t0 = 0n, sendEnd = 0n, last = 0n;
const lat = [];
let received = 0, duplicates = 0, other = 0;
const socks = [];

function finish() {
	const f = Float64Array.from(lat).sort();
	const pct = (q) => (f.length ? f[Math.min(f.length - 1, Math.max(0, Math.round(q * f.length + 0.5) - 1))] : 0);
	const u = process.cpuUsage();
	const start = t0 || process.hrtime.bigint();
	process.stdout.write(`sent=${sent} expected=${expected} received=${received} missing=${expected - received} ` +
		`duplicates=${duplicates} other=${other} batch_s=${(Number((last || start) - start) / 1e9).toFixed(6)} ` +
		`send_s=${(Number((sendEnd || start) - start) / 1e9).toFixed(6)} p50_us=${(pct(0.5) / 1e3).toFixed(1)} ` +
		`p99_us=${(pct(0.99) / 1e3).toFixed(1)} cpu_s=${((u.user + u.system) / 1e6).toFixed(3)}\n`);
	for (const ws of socks) ws.terminate();
	process.exit(received === expected ? 0 : 1);
}

const timer = setTimeout(() => {
	process.stderr.write(`ws_peer.js: timed out after ${a.timeout} s (sent ${sent})\n`);
	finish();
}, a.timeout * 1000);

function onMessage(seen, data) {
	const now = process.hrtime.bigint();
	const s = data.toString('latin1');
	if (!s.startsWith(prefix)) {
		other++;
		return;
	}
	const p = s.split(' ', 4);
	const seq = Number(p[2]);
	if (!(seq < M) || seen[seq]) {
		duplicates++;
		return;
	}
	seen[seq] = 1;
	received++;
	lat.push(Number(now - BigInt(p[3])));
	last = now;
	if (--left === 0) {
		clearTimeout(timer);
		finish();
	}
}

// Publisher i sends seq i, i + S, ...: in slices, so receipts are read
// between them rather than after everything is queued.
function publish(ws, i) {
	let seq = i;
	const step = () => {
		for (let n = 0; n < 256 && seq < M; n++, seq += S) {
			const head = `${prefix}${seq} ${process.hrtime.bigint()} `;
			if (!t0) t0 = process.hrtime.bigint();
			ws.send(head.padEnd(size, 'x'));
			sent++;
		}
		if (seq < M) setImmediate(step);
		else sendEnd = process.hrtime.bigint();
	};
	step();
}

let open = 0;
for (let i = 0; i < S + K; i++) {
	const ws = new WebSocket(a.url, a.subprotocol ? [a.subprotocol] : [], { perMessageDeflate: false });
	const seen = new Uint8Array(M);
	socks.push(ws);
	ws.on('message', (data) => onMessage(seen, data));
	ws.on('error', (e) => {
		process.stderr.write(`ws_peer.js: connection ${i}: ${e.message}\n`);
		finish();
	});
	ws.on('open', () => {
		if (++open === S + K) for (let j = 0; j < S; j++) publish(socks[j], j);
	});
}
