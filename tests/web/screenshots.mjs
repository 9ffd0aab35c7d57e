// Screenshots of the dashboard's views against a running `unas serve` (for
// docs/screenshots/), with the same chromium setup as the browser test: the
// jobs, the job JOB_ID, its best trial, and with MODEL the "Analyse a model"
// page after uploading that .tflite.
// Usage: node screenshots.mjs BASE_URL TOKEN JOB_ID OUT_DIR [MODEL.tflite]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, token, jobId, out, model] = process.argv.slice(2);
fs.mkdirSync(out, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'unas-shots-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1366, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = browser.pages()[0] || await browser.newPage();
  // The trial page's probe for an int8 model answers 404 (or 405) when there is none.
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.location()?.url || '').endsWith('/model.tflite')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base);
  await page.fill('#token-form input[name=token]', token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#jobs-table tbody tr a');
  await page.screenshot({ path: path.join(out, 'jobs.png') });

  await page.goto(`${base}/#/jobs/${jobId}`);
  await page.waitForSelector('#trials-table tbody tr a');
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(out, 'job.png') });

  // The trial with the best validation error.
  const { trials } = await page.evaluate(async ([id, t]) => (await fetch(`/api/v1/jobs/${id}/trials?sort=val_error&status=completed&page_size=1`,
    { headers: { Authorization: `Bearer ${t}` } })).json(), [jobId, token]);
  await page.goto(`${base}/#/jobs/${jobId}/trials/${trials[0].trial_id}`);
  await page.waitForSelector('#sram-timeline');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(out, 'trial.png') });

  if (model) {
    await page.goto(`${base}/#/analyze`);
    await page.setInputFiles('#analyze-file', model);
    await page.waitForSelector('#analyze-ops tbody tr');
    await page.waitForTimeout(300);
    // Down to the end of the timeline (the operator table can be long).
    const box = await page.locator('#analyze-timeline-card').boundingBox();
    await page.screenshot({ path: path.join(out, 'analyze.png'), fullPage: true,
      clip: { x: 0, y: 0, width: 1366, height: Math.ceil(box.y + box.height + 16) } });
  }
  if (errors.length) throw new Error(`console errors: ${errors.join(' | ')}`);
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
