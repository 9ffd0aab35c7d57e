// End-to-end dashboard test in a real browser: Debian's chromium driven by
// playwright-core (never a downloaded browser). Starts `unas serve` with the
// synthetic evaluator, enters the token, submits a job through the form
// (first an invalid one, to see the server's message), watches trials arrive
// live, switches the Pareto axes, opens a trial's SRAM timeline, saves a
// screenshot of each view and fails on any console error.
//
// Usage: node dashboard_test.mjs UNAS_BINARY WEB_DIR ARTIFACT_DIR
// Exit 0: passed; 77: skipped (no /usr/bin/chromium); anything else: failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.UNAS_CHROMIUM || '/usr/bin/chromium';
const [binary, webDir, artifacts] = process.argv.slice(2);
if (!binary || !webDir || !artifacts) {
  console.error('usage: node dashboard_test.mjs UNAS_BINARY WEB_DIR ARTIFACT_DIR');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is not installed (apt-get install chromium; deploy/install-deps.sh does)`);
  process.exit(77);
}
const { chromium } = await import('playwright-core');

const TOKEN = 'browser-test-token-0123456789';
const deadline = setTimeout(() => { console.error('FAIL: timed out after 180 s'); cleanup(1); }, 180_000);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok: ${message}`);
}

fs.mkdirSync(artifacts, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'unas-web-'));
const httpPort = await freePort();
const grpcPort = await freePort();
const serverLog = fs.openSync(path.join(artifacts, 'serve.log'), 'w');
const server = spawn(binary, ['serve', '--data-dir', path.join(work, 'data'), '--listen', `127.0.0.1:${grpcPort}`,
  '--http', `127.0.0.1:${httpPort}`, '--web-dir', webDir, '--workers', '2', '--token', TOKEN],
  { stdio: ['ignore', serverLog, serverLog] });
let browser = null;

async function cleanup(code) {
  clearTimeout(deadline);
  if (browser) await browser.close().catch(() => {});
  server.kill('SIGTERM');
  await new Promise((r) => { if (server.exitCode !== null) r(); else { server.once('exit', r); setTimeout(r, 10_000); } });
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(code);
}

try {
  const base = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; ; ++i) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false);
    if (ready) break;
    if (i > 200 || server.exitCode !== null) throw new Error(`server did not start: ${fs.readFileSync(path.join(artifacts, 'serve.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 900 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  const consoleErrors = [];
  let expected400 = 0;
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The invalid submission below is answered 400 on purpose; Chromium logs
    // every 4xx fetch as a console error. Exactly that one is allowed.
    if (expected400 > 0 && m.text().includes('status of 400')) { expected400--; return; }
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));

  await page.goto(base);
  await page.fill('#token-form input[name=token]', TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#submit-form');
  check(await page.isVisible('#jobs-table'), 'token accepted; jobs view shown');

  // An invalid job: the server's validation message names the field.
  await page.selectOption('select[name=dataset]', 'synthetic');
  await page.selectOption('select[name=evaluator]', 'synthetic');
  await page.fill('input[name=trials]', '0');
  await page.fill('input[name=synthetic_delay_ms]', '100');
  expected400 = 1;
  await page.click('#submit-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#submit-error').textContent.length > 0);
  const validation = await page.textContent('#submit-error');
  check(validation.includes('budget'), `server validation shown: "${validation}"`);

  await page.fill('input[name=trials]', '60');
  await page.click('#submit-form button[type=submit]');
  await page.waitForSelector('#pareto-chart');
  check(/#\/jobs\//.test(page.url()), 'submitted; job view opened');

  // Live: the finished count grows without a reload.
  const done = async () => Number((await page.textContent('#trials-done')).split('/')[0]);
  const first = await done();
  await page.waitForFunction((n) => Number(document.querySelector('#trials-done').textContent.split('/')[0]) >= n + 8, first, { timeout: 60_000 });
  const later = await done();
  check(later > first, `trials appear live (${first} -> ${later} finished)`);
  await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length > 0);
  await page.waitForTimeout(1200);  // the throttled chart refresh
  await page.screenshot({ path: path.join(artifacts, 'job.png'), fullPage: true });

  // The Pareto view: other axes, then back.
  await page.selectOption('#axis-x', 'flash');
  await page.selectOption('#axis-y', 'macs');
  await page.selectOption('#axis-x', 'peak_sram');
  await page.selectOption('#axis-y', 'error');
  const points = await page.evaluate(() => window.Chart.getChart('pareto-chart').data.datasets.slice(0, 3).reduce((n, d) => n + d.data.length, 0));
  check(points > 0, `Pareto scatter shows ${points} trials`);
  await page.locator('#pareto').screenshot({ path: path.join(artifacts, 'pareto.png') });

  // Sort the trial table by peak SRAM from the keyboard.
  await page.locator('#trials-table th button', { hasText: 'Peak SRAM' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#trials-table th[aria-sort=ascending]')?.textContent.includes('Peak SRAM'));
  await page.locator('#trials-table th button', { hasText: 'Peak SRAM' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#trials-table th[aria-sort=descending]')?.textContent.includes('Peak SRAM'));
  // The rows follow once the server's answer arrives.
  const sortedDesc = () => {
    const v = [...document.querySelectorAll('#trials-table tbody tr td:nth-child(4)')].map((c) => Number(c.textContent.replace(/,/g, '')));
    return v.length > 1 && v.every((x, i) => i === 0 || x <= v[i - 1]) && v[0] > v[v.length - 1];
  };
  await page.waitForFunction(sortedDesc, null, { timeout: 10_000 }).catch(() => {});
  check(await page.evaluate(sortedDesc), 'trial table sorted by peak SRAM, descending, from the keyboard');

  // A trial: layers and the SRAM timeline.
  await page.locator('#trials-table tbody a').first().click();
  await page.waitForSelector('#sram-timeline');
  const series = await page.evaluate(() => window.Chart.getChart('sram-timeline').data.datasets.map((d) => d.label));
  check(series.includes('build order') && series.includes('best order'), `SRAM timeline series: ${series.join(', ')}`);
  check(await page.locator('#layers-table tbody tr').count() > 0, 'layer list shown');
  await page.screenshot({ path: path.join(artifacts, 'trial.png'), fullPage: true });

  await page.goto(`${base}/#/`);
  await page.waitForSelector('#jobs-table tbody tr a');
  await page.screenshot({ path: path.join(artifacts, 'jobs.png'), fullPage: true });

  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? `: ${consoleErrors.join(' | ')}` : ''}`);
  console.log(`PASS: screenshots in ${artifacts}`);
  await cleanup(0);
} catch (e) {
  console.error(`FAIL: ${e.stack || e.message}`);
  await cleanup(1);
}
