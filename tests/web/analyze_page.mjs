// The "Analyse a model" part of the browser test: uploads
// ../shared/testdata/tflite/hello_world_int8.tflite (a model from the
// TensorFlow Lite Micro repository), checks the operator table against
// expected.json (measured on a real TFLM build), the three memory timelines
// and the figures, downloads the reordered model, and uploads a file that is
// no model to see the server's refusal.
//
// Guarded: it runs only when the server answers POST /api/v1/analyze (the
// REST endpoint of the analyze branch); before that it says it is skipped.
import fs from 'node:fs';
import path from 'node:path';

const MODEL = 'hello_world_int8.tflite';

export async function checkAnalyzePage({ page, base, token, webDir, artifacts, check, expectError }) {
  const testdata = path.resolve(webDir, '..', '..', 'shared', 'testdata', 'tflite');
  const modelPath = path.join(testdata, MODEL);
  if (!fs.existsSync(modelPath)) throw new Error(`${modelPath} is missing (../shared beside the checkout)`);
  const bytes = fs.readFileSync(modelPath);
  const probe = await fetch(`${base}/api/v1/analyze`, {
    method: 'POST', body: bytes, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' } });
  const probeText = await probe.text();
  if (probe.status === 404 && probeText.includes('no such API path')) {
    console.log(`skip: the analyse page's part (this server has no POST /api/v1/analyze: 404 ${probeText})`);
    return;
  }
  check(probe.ok, `POST /api/v1/analyze answers ${probe.status}`);
  const expected = JSON.parse(fs.readFileSync(path.join(testdata, 'expected.json'), 'utf8')).models.find((m) => m.file === MODEL);

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

  // A file that is no model: the server's message, no result.
  expectError(400, '/api/v1/analyze');
  await page.setInputFiles('#analyze-file', { name: 'notes.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a flatbuffer') });
  await page.waitForFunction(() => document.querySelector('#analyze-error').textContent.length > 0);
  const refusal = await page.textContent('#analyze-error');
  check(refusal.startsWith('notes.tflite was refused: ') && refusal.length > 'notes.tflite was refused: '.length
    && await page.locator('#analyze-ops').count() === 0, `refused file: "${refusal}"`);
}
