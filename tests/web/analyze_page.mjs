// The "Analyse a model" part of the browser test: uploads
// ../shared/testdata/tflite/hello_world_int8.tflite (a model from the
// TensorFlow Lite Micro repository), checks the operator table against
// expected.json (measured on a real TFLM build), the three memory timelines
// and the figures, downloads the reordered model, then uploads
// person_detect.tflite (where partial execution applies, so its timeline has
// steps) and a file that is no model to see the server's refusal.
import fs from 'node:fs';
import path from 'node:path';

const MODEL = 'hello_world_int8.tflite';

export async function checkAnalyzePage({ page, base, token, webDir, artifacts, check, expectError }) {
  const testdata = path.resolve(webDir, '..', '..', 'shared', 'testdata', 'tflite');
  const modelPath = path.join(testdata, MODEL);
  if (!fs.existsSync(modelPath)) throw new Error(`${modelPath} is missing (../shared beside the checkout)`);
  const bytes = fs.readFileSync(modelPath);
  // A direct request first: a server without the endpoint fails here with
  // its status rather than as a timeout in the page.
  const direct = await fetch(`${base}/api/v1/analyze`, {
    method: 'POST', body: bytes, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' } });
  check(direct.ok, `POST /api/v1/analyze answers ${direct.status}`);
  const models = JSON.parse(fs.readFileSync(path.join(testdata, 'expected.json'), 'utf8')).models;
  const expected = models.find((m) => m.file === MODEL);

  await page.click('#nav-analyze');
  await page.waitForSelector('#analyze-file');
  await page.setInputFiles('#analyze-file', modelPath);
  await page.waitForSelector('#analyze-ops tbody tr');
  const names = await page.$$eval('#analyze-ops tbody tr td:nth-child(2)', (cs) => cs.map((c) => c.textContent));
  const kinds = {};
  for (const n of names) kinds[n] = (kinds[n] || 0) + 1;
  check(names.length === expected.operators && JSON.stringify(kinds) === JSON.stringify(expected.kinds),
    `operator table: ${names.length} rows (${names.join(', ')}), as expected.json`);
  const series = await page.evaluate(() => window.Chart.getChart('analyze-timeline').data.datasets.map((d) => ({ label: d.label, n: d.data.length })));
  check(series.length === 3 && series[0].label === 'file order' && series[1].label === 'best order' && series[2].label.startsWith('partial execution')
    && series[0].n > 0 && series[1].n === series[0].n,
    `memory timelines: ${series.map((s) => `${s.label} (${s.n} steps)`).join(', ')}`);
  const peak = await page.textContent('#analyze-figures tbody tr:first-child td:nth-child(2)');
  const arena = await page.textContent('#analyze-figures tbody tr:nth-child(2) td:nth-child(2)');
  const bytesText = (n) => `${n.toLocaleString('en-US')} B`;
  check(peak === bytesText(expected.live_peak_file_order_bytes) && arena === bytesText(expected.tflm_planned_arena_bytes),
    `file order: peak ${peak}, TFLM planned arena ${arena} (TFLM measured ${expected.tflm_planned_arena_bytes} B)`);
  await page.screenshot({ path: path.join(artifacts, 'analyze.png'), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#analyze-reorder')]);
  const reordered = fs.readFileSync(await download.path());
  check(download.suggestedFilename() === 'hello_world_int8.reordered.tflite' && reordered.subarray(4, 8).toString('latin1') === 'TFL3',
    `reordered model downloaded: ${download.suggestedFilename()}, ${reordered.length} bytes, TFL3 identifier`);

  // Person detection: a MobileNet chain, where partial execution applies.
  const person = models.find((m) => m.file === 'person_detect.tflite');
  await page.setInputFiles('#analyze-file', path.join(testdata, person.file));
  await page.waitForFunction((n) => document.querySelector('#analyze-results h2')?.textContent === 'person_detect.tflite'
    && document.querySelectorAll('#analyze-ops tbody tr').length === n, person.operators, { timeout: 30_000 });
  const pex = await page.evaluate(() => window.Chart.getChart('analyze-timeline').data.datasets[2]);
  const bytesOf = (text) => Number(text.replace(/[^0-9]/g, ''));
  const figures = await page.$$eval('#analyze-figures tbody tr:first-child td', (cs) => cs.map((c) => c.textContent));
  check(pex.label === 'partial execution' && pex.data.length > 0 && bytesOf(figures[2]) < bytesOf(figures[0])
    && bytesOf(figures[0]) === person.live_peak_file_order_bytes,
    `${person.file}: ${person.operators} operators; peak ${figures[0]} in file order, ${figures[2]} with partial execution (${pex.data.length} steps)`);

  // A file that is no model: the server's message, no result.
  expectError(400, '/api/v1/analyze');
  await page.setInputFiles('#analyze-file', { name: 'notes.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a flatbuffer') });
  await page.waitForFunction(() => document.querySelector('#analyze-error').textContent.length > 0);
  const refusal = await page.textContent('#analyze-error');
  check(refusal.startsWith('notes.tflite was refused: ') && refusal.length > 'notes.tflite was refused: '.length
    && await page.locator('#analyze-ops').count() === 0, `refused file: "${refusal}"`);
}
