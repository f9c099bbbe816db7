// `blast dashboard` in headless Chromium, for tests/e2e/test_dashboard_control.sh:
// node check_dashboard.js URL_WITH_TOKEN TARGET AGENTS REPORT_JSON_PATH
// - the agents are listed on the page;
// - a run is started by filling and clicking the page's form (the token
//   comes from the address's #fragment);
// - the throughput chart's data grows between two reads;
// - at the end the numbers on the page equal /api/now and the run's JSON report;
// - a POST /api/run without the token is refused (403).
// Prints one line per failure and exits 1, or "ok" and exits 0.
'use strict';
const fs = require('fs');
const puppeteer = require('puppeteer-core');

const [url, target, agents, reportPath] = process.argv.slice(2);
const fails = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, secs, fn) {
  const end = Date.now() + secs * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out: ' + what);
    await sleep(200);
  }
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    headless: true,
  });
  try {
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    const n = await until('the agents listed', 15, () =>
      page.evaluate((k) => document.querySelectorAll('#agents tr.agent').length >= k &&
        document.querySelectorAll('#agents tr.agent').length, Number(agents)));
    if (n < Number(agents)) fails.push(`${n} agents listed, want ${agents}`);
    await until('the form shown', 10, () => page.$eval('#runform', (f) => !f.hidden));
    // A POST without the token, from the page's own origin.
    const refused = await page.evaluate(async () =>
      (await fetch('/api/run?agents=1&target=127.0.0.1:1', { method: 'POST' })).status);
    if (refused !== 403) fails.push(`POST /api/run without the token: ${refused}, want 403`);
    // Fill and click.
    await page.$eval('input[name=target]', (e, v) => { e.value = v; }, target);
    const set = { conns: '4', rate: '400', duration: '4s', agents: String(agents) };
    for (const [k, v] of Object.entries(set))
      await page.$eval(`input[name=${k}]`, (e, v) => { e.value = v; }, v);
    await page.select('select[name=qos]', '1');
    await page.click('#runbtn');
    await until('the run accepted', 10, () =>
      page.$eval('#runerr', (e) => e.textContent.startsWith('starting run')));
    // The page drops the last run's figures once the new one is taken.
    await until('the page reset for the new run', 20, () =>
      page.$eval('#state', (e) => !e.textContent.startsWith('finished')));
    const points = () => page.$eval('#c_tp polyline', (p) =>
      (p.getAttribute('points') || '').split(' ').filter((s) => s).length);
    const a = await until('seconds on the chart', 30, async () => (await points()) >= 2 && points());
    await sleep(2200);
    const b = await points();
    if (!(b > a)) fails.push(`the throughput chart did not grow: ${a} then ${b} points`);
    await until('the run finished on the page', 60, () =>
      page.$eval('#state', (e) => e.textContent.startsWith('finished')));
    await until('the final report shown', 10, () => page.$('#final iframe'));
    const shown = await page.evaluate(() => ({
      sent: document.getElementById('sent').textContent,
      acked: document.getElementById('acked').textContent,
      failed: document.getElementById('failed').textContent,
    }));
    const now = await page.evaluate(async () => (await fetch('/api/now')).json());
    const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
    const fmt = (v) => Number(v).toLocaleString('en-US');
    for (const k of ['sent', 'acked', 'failed']) {
      if (shown[k] !== fmt(report[k])) fails.push(`page ${k} ${shown[k]} != report ${report[k]}`);
      if (now.final[k] !== report[k]) fails.push(`final.${k} ${now.final[k]} != report ${report[k]}`);
    }
    if (!(report.sent > 0)) fails.push('nothing sent');
  } catch (e) {
    fails.push(String(e && e.message ? e.message : e));
  } finally {
    await browser.close();
  }
  if (fails.length) {
    console.log(fails.join('\n'));
    process.exit(1);
  }
  console.log('ok');
})();
