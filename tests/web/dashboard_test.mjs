// End-to-end dashboard test in a real browser: Debian's chromium driven by
// playwright-core (never a downloaded browser). Starts `unas serve` with the
// synthetic evaluator, enters the token, submits a job through the form
// (first an invalid one, to see the server's message), watches trials arrive
// live (after the form's own checks and a tiny real job through it to a
// final front: submit_form_page.mjs), checks the Pareto scatter against the API (every trial, feasibility
// by the hard constraints, the paging of trials.js), switches the Pareto
// axes, opens a trial (float and int8 errors, downloads, SRAM timeline),
// shows the same job as a multi-fidelity one with a final front
// (fidelity_page.mjs over fidelity_fixture.mjs), the "Analyse a model" page
// (analyze_page.mjs), saves a screenshot of each view and fails on any
// console error.
//
// Usage: node dashboard_test.mjs UNAS_BINARY WEB_DIR ARTIFACT_DIR
// The analyse page uploads ../shared/testdata/tflite/ beside the checkout
// (WEB_DIR/../../shared).
// Exit 0: passed; 77: skipped (no /usr/bin/chromium); anything else: failed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { checkAnalyzePage } from './analyze_page.mjs';
import { checkFidelityPages } from './fidelity_page.mjs';
import { checkSubmitForm } from './submit_form_page.mjs';

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
const deadline = setTimeout(() => { console.error('FAIL: timed out after 270 s'); cleanup(1); }, 270_000);

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
  // Requests below answered 4xx on purpose: Chromium logs every 4xx fetch as
  // a console error, so exactly those are allowed, each once; the probe for a
  // trial's int8 model (404, or 405 while the server has no such route) as
  // often as it happens.
  const allowed = [];
  const expectError = (status, urlPart) => allowed.push({ status, urlPart });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/status of 40[45]/.test(m.text()) && url.endsWith('/model.tflite')) return;
    const i = allowed.findIndex((a) => m.text().includes(`status of ${a.status}`) && url.includes(a.urlPart));
    if (i >= 0) { allowed.splice(i, 1); return; }
    consoleErrors.push(`${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));

  const mime = (await fetch(`${base}/api.js`)).headers.get('content-type');
  check(/^text\/javascript/.test(mime), `ES modules served as ${mime}`);

  await page.goto(base);
  await page.fill('#token-form input[name=token]', TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#submit-form');
  check(await page.isVisible('#jobs-table'), 'token accepted; jobs view shown');

  // A registered data set (unas data add): two classes of 8x8 grey PPMs,
  // which the form offers as data:NAME.
  const folder = path.join(work, 'tiny-folder');
  for (const [cls, grey] of [['dark', 20], ['light', 230]]) {
    fs.mkdirSync(path.join(folder, cls), { recursive: true });
    for (let i = 0; i < 4; ++i) {
      fs.writeFileSync(path.join(folder, cls, `${i}.ppm`), Buffer.concat([Buffer.from('P6\n8 8\n255\n'), Buffer.alloc(8 * 8 * 3, grey + i)]));
    }
  }
  const added = spawnSync(binary, ['data', 'add', folder, '--name', 'tiny-folder', '--coordinator', `127.0.0.1:${grpcPort}`, '--token', TOKEN],
    { encoding: 'utf8', timeout: 60_000 });
  check(added.status === 0, `registered a data set: ${(added.stdout || added.stderr).trim().split('\n')[0]}`);
  await checkSubmitForm({ page, base, token: TOKEN, webDir, artifacts, check, expectError, registered: 'tiny-folder' });
  await page.goto(`${base}/#/`);
  await page.waitForSelector('#spec-json');
  // The synthetic job below starts from a minimal spec typed into the JSON
  // editor (the recipe's rungs and final round are for real training).
  await page.fill('#spec-json', JSON.stringify({ name: 'search', dataset: 'fashion-mnist', seed: 1, budget: { trials: 20 },
    bounds: { val_error: 0.3, peak_sram_bytes: 64000, flash_bytes: 64000, macs: 30000000 },
    constraints: { peak_sram_bytes: 64000, flash_bytes: 64000, macs: 30000000 } }));

  // An invalid job: the server's validation message names the field.
  await page.fill('input[name=dataset]', 'synthetic');
  await page.selectOption('select[name=evaluator]', 'synthetic');
  await page.fill('input[name=trials]', '0');
  await page.fill('input[name=synthetic_delay_ms]', '100');
  expectError(400, '/api/v1/jobs');
  await page.click('#submit-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#submit-error').textContent.length > 0);
  const validation = await page.textContent('#submit-error');
  check(validation.includes('budget') && (await page.textContent('#field-error-trials')).length > 0,
    `server validation shown, and beside its field: "${validation}"`);

  // The data set is free text and the input shape "H,W,C" becomes [H, W, C]:
  // a shape of two numbers is the server's 400, shown naming the field.
  await page.fill('input[name=trials]', '60');
  await page.fill('input[name=input_shape]', '8,8');
  expectError(400, '/api/v1/jobs');
  await page.click('#submit-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#submit-error').textContent.includes('input_shape'));
  check((await page.textContent('#submit-error')).includes('input_shape: expected [height, width, channels]'),
    'input shape sent as an array and refused with its field');
  await page.fill('input[name=input_shape]', '');

  // A soft SRAM bound well below the hard constraint: trials between the two
  // are feasible (trained, on the front if not dominated) though outside the
  // hypervolume's reference box.
  await page.fill('input[name=trials]', '60');
  await page.fill('input[name=b_peak_sram_bytes]', '3000');
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

  // Once the job is done the scatter holds every completed trial, classed as
  // the server classes them.
  const jobId = decodeURIComponent(page.url().split('#/jobs/')[1]);
  const apiGet = (p) => fetch(`${base}/api/v1${p}`, { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
  for (let i = 0; (await apiGet(`/jobs/${jobId}`)).status !== 'succeeded'; ++i) {
    if (i > 300) throw new Error('the job did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
  const job = await apiGet(`/jobs/${jobId}`);
  const completed = (await apiGet(`/jobs/${jobId}/trials?status=completed&page_size=1`)).total;
  const front = (await apiGet(`/jobs/${jobId}/pareto`)).trials.length;
  const scatterCounts = () => Object.fromEntries(window.Chart.getChart('pareto-chart').data.datasets
    .filter((d) => d.type !== 'line').map((d) => [d.label, d.data.length]));
  await page.waitForFunction(([n, f]) => {
    const c = Object.fromEntries(window.Chart.getChart('pareto-chart').data.datasets.filter((d) => d.type !== 'line').map((d) => [d.label, d.data.length]));
    return Object.values(c).reduce((a, b) => a + b, 0) === n && c['Pareto front'] === f;
  }, [completed, front], { timeout: 10_000 }).catch(() => {});
  const counts = await page.evaluate(scatterCounts);
  check(Object.values(counts).reduce((a, b) => a + b, 0) === completed && counts['Pareto front'] === front,
    `scatter shows all ${completed} completed trials, ${front} on the front: ${JSON.stringify(counts)}`);
  check(counts['infeasible (beyond a hard constraint)'] === 0 && counts['feasible, beyond a soft bound'] > 0,
    'feasible = within the hard constraints (the server never trains beyond them); soft bounds only shade points');
  check((await page.textContent('#pareto-note')) === `All ${completed} completed trials.`, 'scatter note says every trial is shown');
  // A server from before multi-fidelity (no rung or final fields): one
  // fidelity, no final front, the search's accuracy as the headline.
  check(!(await page.isVisible('#final-front-card')) && !(await page.isVisible('#job-finalizing'))
    && (await page.textContent('#headline-accuracy')) === `best search validation accuracy (feasible)${(100 * (1 - job.best_val_error)).toFixed(2)}%`,
  `no final front; headline "${await page.textContent('#headline-accuracy')}"`);
  const hvShown = await page.textContent('#job-hypervolume strong');
  check(hvShown === (job.hypervolume > 0 ? job.hypervolume.toFixed(4) : '0.0000 (no feasible trial within every bound yet)'),
    `hypervolume shown: ${hvShown}`);
  const bestShown = await page.evaluate(() => Math.min(...window.Chart.getChart('pareto-chart').data.datasets
    .filter((d) => d.type !== 'line' && !d.label.startsWith('infeasible')).flatMap((d) => d.data.map((p) => p.t.metrics.val_error))));
  check(bestShown === job.best_val_error, `best feasible error in the scatter (${bestShown}) = the server's best_val_error (${job.best_val_error})`);

  // trials.js pages through all of them, or samples evenly spaced pages when
  // there are more than its request bound allows.
  const paged = await page.evaluate(async ([id, size, pages]) => {
    const { loadCompletedTrials } = await import('/trials.js');
    const r = await loadCompletedTrials(`/jobs/${id}`, { pageSize: size, maxPages: pages });
    const ids = r.trials.map((t) => t.trial_id);
    return { n: ids.length, unique: new Set(ids).size, total: r.total, sampled: r.sampled, first: Math.min(...ids), last: Math.max(...ids) };
  }, [jobId, 7, 100]);
  check(!paged.sampled && paged.n === completed && paged.unique === completed && paged.total === completed,
    `all pages: ${paged.n} distinct trials of ${completed}`);
  const sample = await page.evaluate(async (id) => {
    const { loadCompletedTrials } = await import('/trials.js');
    const r = await loadCompletedTrials(`/jobs/${id}`, { pageSize: 7, maxPages: 3 });
    const ids = r.trials.map((t) => t.trial_id);
    return { n: ids.length, unique: new Set(ids).size, sampled: r.sampled, first: Math.min(...ids), last: Math.max(...ids) };
  }, jobId);
  check(sample.sampled && sample.n === 21 && sample.unique === 21 && sample.first === paged.first && sample.last === paged.last,
    `over the bound: 3 pages of 7 spread over the trials (${sample.n} trials, ids ${sample.first}..${sample.last})`);

  // The Pareto view: other axes, then back.
  await page.selectOption('#axis-x', 'flash');
  await page.selectOption('#axis-y', 'macs');
  await page.selectOption('#axis-x', 'peak_sram');
  await page.selectOption('#axis-y', 'error');
  const points = await page.evaluate(() => window.Chart.getChart('pareto-chart').data.datasets.filter((d) => d.type !== 'line').reduce((n, d) => n + d.data.length, 0));
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
    const col = [...document.querySelectorAll('#trials-table thead th')].findIndex((h) => h.textContent.includes('Peak SRAM')) + 1;
    const v = [...document.querySelectorAll(`#trials-table tbody tr td:nth-child(${col})`)].map((c) => Number(c.textContent.replace(/,/g, '')));
    return v.length > 1 && v.every((x, i) => i === 0 || x <= v[i - 1]) && v[0] > v[v.length - 1];
  };
  await page.waitForFunction(sortedDesc, null, { timeout: 10_000 }).catch(() => {});
  check(await page.evaluate(sortedDesc), 'trial table sorted by peak SRAM, descending, from the keyboard');

  // Float and int8 errors side by side in the table; unmeasured is "—".
  const header = await page.$$eval('#trials-table thead th', (hs) => hs.map((h) => h.textContent.replace(/ [▲▼]$/, '')));
  check(['Val error', 'Int8 val error', 'Test error', 'Int8 test error'].every((h, i) => header[header.indexOf('Val error') + i] === h),
    `trial table columns: ${header.join(' | ')}`);
  const firstRow = await page.$$eval('#trials-table tbody tr:first-child td', (cs) => cs.map((c) => c.textContent));
  const shownTrial = await apiGet(`/jobs/${jobId}/trials/${firstRow[0].slice(1)}`);
  const pct = (v) => (v == null ? '—' : `${(100 * v).toFixed(2)}%`);
  const errorsOf = (m) => [m?.val_error, m?.int8_val_error, m?.test_error, m?.int8_test_error].map(pct);
  const at = header.indexOf('Val error');
  check(JSON.stringify(firstRow.slice(at, at + 4)) === JSON.stringify(errorsOf(shownTrial.metrics)),
    `trial #${shownTrial.trial_id} errors float/int8: ${firstRow.slice(at, at + 4).join(' ')}`);

  // A trial: errors, downloads, layers and the SRAM timeline.
  await page.locator('#trials-table tbody a').first().click();
  await page.waitForSelector('#sram-timeline');
  const accuracy = await page.$$eval('#accuracy-table tbody td', (cs) => cs.map((c) => c.textContent));
  const m = shownTrial.metrics;
  check(JSON.stringify(accuracy) === JSON.stringify([m?.val_error, m?.int8_val_error, m?.test_error, m?.int8_test_error].map(pct)),
    `trial page errors (val float, int8; test float, int8): ${accuracy.join(' ')}`);
  // The synthetic evaluator trains no model, so there is no .tflite to offer.
  await page.waitForFunction(() => !document.querySelector('#tflite-note').textContent.startsWith('checking'));
  check(await page.isDisabled('#download-tflite'), `int8 model download disabled: ${await page.textContent('#tflite-note')}`);
  const [exported] = await Promise.all([page.waitForEvent('download'), page.click('#download-export')]);
  const exportJson = JSON.parse(fs.readFileSync(await exported.path(), 'utf8'));
  check(exported.suggestedFilename() === `${jobId}-trial-${shownTrial.trial_id}.json` && exportJson.format === 'unas-trial-export/1',
    `export downloaded as ${exported.suggestedFilename()}`);
  const series = await page.evaluate(() => window.Chart.getChart('sram-timeline').data.datasets.map((d) => d.label));
  check(series.includes('build order') && series.includes('best order'), `SRAM timeline series: ${series.join(', ')}`);
  // The x axis counts operators; partial execution's slice steps sit within
  // their segment's operators. Hand-worked: a whole step, a segment of two
  // operators run as four interleaved slices (2 units, 4 steps: 0.5 apart),
  // a whole step.
  const positions = await page.evaluate(async () => (await import('/trial.js')).pexStepPositions(
    [{ op: 0 }, { op: 1, segment: 0 }, { op: 2, segment: 0 }, { op: 1, segment: 0 }, { op: 2, segment: 0 }, { op: 3 }]));
  check(JSON.stringify(positions) === JSON.stringify([0, 1, 1.5, 2, 2.5, 3]), `partial execution's steps at operators ${positions.join(', ')}`);
  const timeline = await page.evaluate(() => {
    const c = window.Chart.getChart('sram-timeline');
    const xs = (label) => c.data.datasets.find((d) => d.label === label)?.data.map((p) => p.x);
    return { title: c.options.scales.x.title.text, best: xs('best order'), pex: xs('partial execution') };
  });
  check(timeline.title.startsWith('operators executed') && (!timeline.pex || (timeline.pex[0] === 0
    && timeline.pex.every((x, i) => i === 0 || x > timeline.pex[i - 1]) && timeline.pex[timeline.pex.length - 1] < timeline.best.length)),
  `timeline x axis "${timeline.title}": ${timeline.best.length} operators, partial execution's ${timeline.pex?.length ?? 0} steps within them`);
  check(await page.locator('#layers-table tbody tr').count() > 0, 'layer list shown');
  // Each operator's inputs ("input" for the network's, else the producing
  // operators' numbers), from the cost report the API sends; flash says it
  // is the weights.
  const inputsShown = await page.$$eval('#layers-table tbody tr', (trs) => trs.map((tr) => tr.cells[3].textContent));
  const inputsSent = shownTrial.cost_report.ops.map((op) => op.inputs.map((i) => (i === -1 ? 'input' : `#${i}`)).join(', '));
  check(inputsShown[0] === 'input' && JSON.stringify(inputsShown) === JSON.stringify(inputsSent),
    `layer list inputs column: ${inputsShown.join(' | ')}`);
  const layerHeader = await page.$$eval('#layers-table thead th', (hs) => hs.map((h) => h.textContent));
  check(layerHeader[3] === 'Inputs' && layerHeader.includes('Flash, weights (B)')
    && (await page.textContent('#trial-flash span')) === 'flash: weights and biases', `flash labelled as weights: ${layerHeader.join(' | ')}`);
  await page.screenshot({ path: path.join(artifacts, 'trial.png'), fullPage: true });

  await checkFidelityPages({ page, base, token: TOKEN, jobId, webDir, artifacts, check, expectError });

  await page.goto(`${base}/#/`);
  await page.waitForSelector('#jobs-table tbody tr a');
  await page.screenshot({ path: path.join(artifacts, 'jobs.png'), fullPage: true });

  // The jobs page shows 50 jobs at a time, newest first, and steps through
  // the API's pages (GET /api/v1/jobs is paged).
  const apiPost = (p, body) => fetch(`${base}/api/v1${p}`, { method: 'POST', body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } }).then((r) => r.json());
  let newest = null;
  for (let total = (await apiGet('/jobs?page_size=1')).total; total <= 50; ++total) {
    newest = await apiPost('/jobs', { name: `page-${total}`, dataset: 'synthetic', evaluator: 'synthetic',
      synthetic_delay_ms: 0, budget: { trials: 1 }, bounds: { val_error: 0.5, peak_sram_bytes: 64000, flash_bytes: 64000, macs: 30000000 } });
  }
  const allJobs = (await apiGet('/jobs?page_size=1')).total;
  await page.goto(`${base}/#/`);
  await page.waitForFunction(() => document.querySelectorAll('#jobs-table tbody tr').length === 50);
  const newestRow = await page.textContent('#jobs-table tbody tr:first-child td:first-child');
  check(!newest || newestRow.includes(newest.job_id), `jobs newest first (${newestRow})`);
  check(await page.textContent('#jobs-page') === `jobs 1–50 of ${allJobs}, newest first` && await page.isDisabled('#jobs-newer'),
    `jobs page 1: ${await page.textContent('#jobs-page')}`);
  await page.click('#jobs-older');
  await page.waitForFunction((n) => document.querySelectorAll('#jobs-table tbody tr').length === n, Math.min(50, allJobs - 50));
  check(await page.textContent('#jobs-page') === `jobs 51–${Math.min(100, allJobs)} of ${allJobs}, newest first`,
    `jobs page 2: ${await page.textContent('#jobs-page')}`);
  await page.click('#jobs-newer');
  await page.waitForFunction(() => document.querySelectorAll('#jobs-table tbody tr').length === 50);

  // A job whose error bound no trial meets: its hypervolume stays 0, and the
  // job page says why instead of a bare 0.0000.
  const unmet = await apiPost('/jobs', { name: 'unmet-bound', dataset: 'synthetic', evaluator: 'synthetic',
    synthetic_delay_ms: 0, budget: { trials: 2 }, bounds: { val_error: 0.000001, peak_sram_bytes: 64000, flash_bytes: 64000, macs: 30000000 } });
  for (let i = 0; (await apiGet(`/jobs/${unmet.job_id}`)).status !== 'succeeded'; ++i) {
    if (i > 300) throw new Error('the unmet-bound job did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
  const unmetJob = await apiGet(`/jobs/${unmet.job_id}`);
  await page.goto(`${base}/#/jobs/${unmet.job_id}`);
  await page.waitForSelector('#job-hypervolume strong');
  const unmetHv = await page.textContent('#job-hypervolume strong');
  check(unmetJob.hypervolume === 0 && unmetJob.trials_completed === 2 && unmetHv === '0.0000 (no feasible trial within every bound yet)',
    `zero hypervolume explained: "${unmetHv}"`);

  await checkAnalyzePage({ page, base, token: TOKEN, webDir, artifacts, check, expectError });

  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? `: ${consoleErrors.join(' | ')}` : ''}`);
  console.log(`PASS: screenshots in ${artifacts}`);
  await cleanup(0);
} catch (e) {
  console.error(`FAIL: ${e.stack || e.message}`);
  await cleanup(1);
}
