// The multi-fidelity part of the browser test, over the finished synthetic
// job with fidelity_fixture.mjs's fields laid on the server's answers: the
// final front shown first (accuracies, int8 label, resources, the .tflite
// download), the headline accuracy, the scatter's rung and final datasets,
// the trial table's rung column and promotion links (scrolling to a row on
// the page, opening a trial off it) under sort and filter, the trial page's
// rung figures, and the Finalize control (the server's 409 message, then a
// 200 that shows "finalizing" until the job says it is over).
import fs from 'node:fs';
import path from 'node:path';
import { fidelityRule, overlayTrial, routeFixture } from './fidelity_fixture.mjs';

const pct = (v) => (v == null ? '—' : `${(100 * v).toFixed(2)}%`);
const int = (v) => (v == null ? '—' : Number(v).toLocaleString('en-US'));

export async function checkFidelityPages({ page, base, token, jobId, webDir, artifacts, check, expectError }) {
  const apiGet = (p) => fetch(`${base}/api/v1${p}`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
  const completed = (await apiGet(`/jobs/${jobId}/trials?status=completed&page_size=1000`)).trials;
  const rule = fidelityRule(completed.map((t) => t.trial_id));
  const state = { round: 1, epochs: 0, finalizing: false, refuseNext: true };
  const finalizeCalls = [];
  const modelBytes = fs.readFileSync(path.resolve(webDir, '..', '..', 'shared', 'testdata', 'tflite', 'hello_world_int8.tflite'));
  await routeFixture(page, { jobId, rule, state, finalizeCalls, modelBytes });
  const byId = new Map(completed.map((t) => [t.trial_id, overlayTrial(t, rule)]));
  const label = (t) => (t.final_round ? `final ${t.final_round}` : `r${t.rung}`);
  const jobUrl = `${base}/#/jobs/${encodeURIComponent(jobId)}`;

  await page.goto(jobUrl);
  await page.waitForSelector('#final-front-card:not([hidden]) #final-front tbody tr');
  const first = await page.evaluate(() => {
    const card = document.querySelector('#final-front-card'), pareto = document.querySelector('#pareto');
    return Boolean(card.compareDocumentPosition(pareto) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  check(first, 'final front card above the search front and scatter');
  check((await page.textContent('#final-front-card h2')) === 'Final front (retrained from scratch, round 1)', 'final front titled with its round');
  const front = rule.front.map((id) => byId.get(id)).sort((a, b) => a.metrics.val_error - b.metrics.val_error);
  const rows = await page.$$eval('#final-front tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const expected = front.map((t) => {
    const c = t.pruned_costs || t.costs;
    return [`#${t.trial_id}`, `${pct(t.final_test_accuracy)}${t.metrics.int8_test_error != null ? ' int8' : ''}`,
      int(c.peak_sram_bytes), int(c.flash_bytes), int(c.macs), t.has_tflite ? '.tflite' : ''];
  });
  check(JSON.stringify(rows) === JSON.stringify(expected), `final front rows (best error first): ${rows.map((r) => r.join(' ')).join(' | ')}`);
  const int8Id = rule.finals[0];
  const [model] = await Promise.all([page.waitForEvent('download'), page.click('#final-front a.tflite-link')]);
  const got = fs.readFileSync(await model.path());
  check(model.suggestedFilename() === `${jobId}-trial-${int8Id}.tflite` && got.equals(modelBytes),
    `final front .tflite downloaded as ${model.suggestedFilename()} (${got.length} bytes)`);
  const best = front.reduce((a, b) => (b.final_test_accuracy > a.final_test_accuracy ? b : a));
  const headline = await page.textContent('#headline-accuracy');
  const headlineWant = `final test accuracy${best.metrics.int8_test_error != null ? ' (int8)' : ''}, round 1${pct(best.final_test_accuracy)} trial #${best.trial_id}`;
  check(headline === headlineWant, `headline is the best final test accuracy: "${headline}"`);
  check(await page.evaluate(() => document.querySelector('#job-stats').firstElementChild.id === 'headline-accuracy'), 'headline is the first figure');
  check(!(await page.isVisible('#job-finalizing')) && await page.isVisible('#finalize')
    && (await page.textContent('#job-final-round strong')) === "round 1 · the job's recipe", 'not finalizing: no badge; Finalize offered; round 1 with the recipe\'s epochs');

  // The scatter: each completed trial once, by rung, final trials apart.
  const counts = await page.evaluate(() => Object.fromEntries(window.Chart.getChart('pareto-chart').data.datasets
    .filter((d) => d.type !== 'line').map((d) => [d.label, d.data.length])));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const searchFront = (await apiGet(`/jobs/${jobId}/pareto`)).trials.filter((t) => !rule.finals.includes(t.trial_id)).map((t) => t.trial_id);
  const offFront = (r) => completed.filter((t) => !rule.finals.includes(t.trial_id) && !searchFront.includes(t.trial_id) && rule.info.get(t.trial_id).rung === r).length;
  const rungCount = (r) => (counts[`rung ${r}`] || 0) + (counts[`rung ${r}, beyond a soft bound`] || 0);
  check(total === completed.length && counts['final front (retrained)'] === 3 && counts['final retraining, dominated'] === 1
    && counts['Pareto front'] === searchFront.length && [0, 1, 2].every((r) => rungCount(r) === offFront(r)),
  `scatter by rung: ${JSON.stringify(counts)}`);
  await page.locator('#pareto').screenshot({ path: path.join(artifacts, 'pareto-rungs.png') });
  await page.screenshot({ path: path.join(artifacts, 'job-final.png'), fullPage: true });

  // The trial table: rung labels and promotion marks, under sort and filter.
  const tableRows = () => page.$$eval('#trials-table tbody tr', (trs) => trs.map((tr) => {
    const a = tr.cells[0].querySelector('a.promoted');
    return { id: Number(tr.cells[0].querySelector('a').textContent.slice(1)), rung: tr.cells[2].textContent, mark: a ? a.textContent : '' };
  }));
  const rowsAgree = (rs) => rs.length > 0 && rs.every((r) => {
    const t = byId.get(r.id);
    return t && r.rung === label(t) && r.mark === (t.promoted_from ? `↑ from #${t.promoted_from}` : '');
  });
  const shown = await tableRows();
  check(rowsAgree(shown) && shown.some((r) => r.rung === 'final 1') && shown.some((r) => r.rung === 'r2'),
    `rung column and marks: ${shown.slice(0, 8).map((r) => `#${r.id} ${r.rung}${r.mark ? ` ${r.mark}` : ''}`).join(', ')}`);
  const onPage = shown.find((r) => r.mark && shown.some((s) => s.id === byId.get(r.id).promoted_from));
  const hashBefore = await page.evaluate(() => location.hash);
  await page.click(`#trial-row-${onPage.id} a.promoted`);
  const from = byId.get(onPage.id).promoted_from;
  await page.waitForSelector(`#trial-row-${from}.flash`);
  check((await page.evaluate(() => location.hash)) === hashBefore, `"${onPage.mark}" on #${onPage.id} scrolls to row #${from} on the page`);
  const offPage = shown.find((r) => r.mark && !shown.some((s) => s.id === byId.get(r.id).promoted_from));
  await page.click(`#trial-row-${offPage.id} a.promoted`);
  const offFrom = byId.get(offPage.id).promoted_from;
  await page.waitForFunction((id) => document.querySelector('h1')?.textContent.startsWith(`Trial ${id} `), offFrom, { timeout: 10_000 }).catch(() => {});
  check((await page.evaluate(() => location.hash)) === `#/jobs/${jobId}/trials/${offFrom}` && (await page.textContent('h1')).startsWith(`Trial ${offFrom} `),
    `"${offPage.mark}" on #${offPage.id} (row not on the page) opens trial #${offFrom}'s page`);
  await page.goBack();
  await page.waitForSelector('#trials-table tbody tr');
  await page.selectOption('#trial-status', 'completed');
  await page.locator('#trials-table th button', { hasText: 'Val error' }).click();
  await page.waitForFunction(() => document.querySelector('#trials-table th[aria-sort=ascending]')?.textContent.includes('Val error'));
  const valCol = 4;
  const sortedAsc = () => {
    const v = [...document.querySelectorAll('#trials-table tbody tr td:nth-child(4)')].map((c) => Number.parseFloat(c.textContent));
    return v.length > 1 && v.every((x, i) => i === 0 || x >= v[i - 1]);
  };
  await page.waitForFunction(sortedAsc, null, { timeout: 10_000 }).catch(() => {});
  const sorted = await tableRows();
  check(await page.evaluate(sortedAsc) && rowsAgree(sorted), `sorted by val error (column ${valCol}), completed only: rung labels still by trial (${sorted.slice(0, 5).map((r) => `#${r.id} ${r.rung}`).join(', ')})`);
  await page.selectOption('#trial-status', '');

  // Trial pages: a promoted search trial, then a final one.
  const promoted = [...byId.values()].find((t) => t.rung === 2 && t.promoted_from);
  await page.goto(`${jobUrl}/trials/${promoted.trial_id}`);
  await page.waitForSelector('#trial-rung');
  // [rung, promoted from, final round, final test accuracy, test accuracy
  // at the rung, proposal]: "final" only on a final round's trial.
  const figures = async () => page.evaluate(() => ['#trial-rung', '#trial-promoted-from', '#trial-final-round', '#trial-final-accuracy',
    '#trial-test-accuracy', '#trial-proposal'].map((s) => document.querySelector(`${s} strong`)?.textContent ?? 'absent'));
  const f1 = await figures();
  check(JSON.stringify(f1) === JSON.stringify(['r2', `#${promoted.promoted_from}`, '—', 'absent', pct(promoted.final_test_accuracy), `#${promoted.proposal_id}`])
    && (await page.textContent('#trial-test-accuracy span')) === 'test accuracy at its rung (not retrained)',
    `promoted trial #${promoted.trial_id}, a search trial, has no "final" accuracy: ${f1.join(' | ')}`);
  await page.click('#trial-promoted-from a');
  await page.waitForFunction((id) => document.querySelector('h1')?.textContent.startsWith(`Trial ${id} `), promoted.promoted_from);
  check((await page.textContent('#trial-rung strong')) === 'r1', `the link opens trial #${promoted.promoted_from} (r1)`);
  const fin = byId.get(int8Id);
  await page.goto(`${jobUrl}/trials/${int8Id}`);
  await page.waitForFunction((id) => document.querySelector('h1')?.textContent.startsWith(`Trial ${id} `) && document.querySelector('#trial-rung'), int8Id);
  const f2 = await figures();
  check(JSON.stringify(f2) === JSON.stringify(['final 1', '—', '1', `${pct(fin.final_test_accuracy)} (int8)`, 'absent', `#${fin.proposal_id}`]),
    `final trial #${int8Id}: ${f2.join(' | ')}`);
  await page.screenshot({ path: path.join(artifacts, 'trial-final.png'), fullPage: true });

  // Finalize: the server's refusal, then a round that runs until the job
  // says it is over.
  await page.goto(jobUrl);
  await page.waitForSelector('#finalize-form:not([hidden]) #finalize:not([disabled])');
  await page.fill('#final-epochs', '7');
  expectError(409, '/finalize');
  await page.click('#finalize');
  await page.waitForFunction(() => document.querySelector('#finalize-error').textContent.length > 0);
  const refusal = await page.textContent('#finalize-error');
  check(refusal === `Finalize refused: job ${jobId} cannot be finalised: a final round is already running` && !(await page.isDisabled('#finalize')),
    `409 shown: "${refusal}"`);
  await page.click('#finalize');
  await page.waitForSelector('#job-finalizing', { state: 'visible' });
  check(finalizeCalls.length === 2 && finalizeCalls.every((c) => c.body === '{"epochs":7}' && c.contentType === 'application/json' && c.auth === `Bearer ${token}`),
    `POST /finalize sent ${finalizeCalls.map((c) => c.body).join(', ')} as ${finalizeCalls[0]?.contentType} with the token`);
  check((await page.textContent('#finalize')) === 'Finalizing…' && await page.isDisabled('#finalize')
    && (await page.textContent('#job-stats')).includes('succeeded · finalizing') && (await page.textContent('#finalize-error')) === '',
  'after 200: header badge and status say finalizing; the button waits');
  check((await page.textContent('#job-final-round strong')) === 'round 2 · 7 epochs', 'the answer\'s round and epochs shown: round 2 · 7 epochs');
  state.finalizing = false;
  await page.waitForSelector('#job-finalizing', { state: 'hidden', timeout: 10_000 });
  check(!(await page.isDisabled('#finalize')), 'the page polls the job until finalizing ends');
  await page.unrouteAll({ behavior: 'wait' });
}
