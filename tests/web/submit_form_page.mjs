// The submit form in the browser test: its defaults are the README main
// job's recipe as the server reads it from examples/jobs/fashion-mnist.json,
// the form and the JSON editor round-trip (fields the form does not show
// kept), invalid JSON gets a message, the server's validation error lands on
// the field it names, the boards and registered data sets (`registered`, a
// name the caller added) come from the server; then a
// real, tiny job (the train evaluator on the 8x8 `synthetic` data set, three
// proposals of three epochs, a final round) driven through the form to its final front, and
// its final trial's memory labels checked against the API.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export async function checkSubmitForm({ page, base, token, webDir, artifacts, check, expectError, registered }) {
  const apiGet = (p) => fetch(`${base}/api/v1${p}`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
  const recipe = JSON.parse(fs.readFileSync(path.join(webDir, '..', 'examples', 'jobs', 'fashion-mnist.json'), 'utf8'));
  await page.goto(`${base}/#/`);
  await page.waitForSelector('#spec-json');
  const shownSpec = async () => JSON.parse(await page.inputValue('#spec-json'));
  check(JSON.stringify(await shownSpec()) === JSON.stringify(recipe), 'the form starts from examples/jobs/fashion-mnist.json as the server reads it');
  const value = (name) => page.inputValue(`[name=${name}]`);
  const expectFields = {
    dataset: recipe.dataset, trials: String(recipe.budget.trials), wall_seconds: String(recipe.budget.wall_seconds ?? ''),
    epochs: String(recipe.training.epochs), subset: String(recipe.training.subset), final_epochs: String(recipe.final.training.epochs),
    final_networks: String(recipe.final.networks), strategy: recipe.strategy.type ?? recipe.strategy, accounting: recipe.accounting,
    b_val_error: String(recipe.bounds.val_error), c_peak_sram_bytes: String(recipe.constraints.peak_sram_bytes),
  };
  const shown = {};
  for (const name of Object.keys(expectFields)) shown[name] = await value(name);
  check(JSON.stringify(shown) === JSON.stringify(expectFields), `form fields show the recipe: ${JSON.stringify(shown)}`);
  check(await page.isChecked('[name=final_enabled]') === Boolean(recipe.final.enabled), 'final retraining box follows the recipe');
  check(!(await page.isVisible('[name=synthetic_delay_ms]')), 'no synthetic delay for real training');

  // The boards the server knows, and the data set choices.
  const boards = (await apiGet('/boards')).boards.map((b) => b.name);
  const offered = await page.$$eval('select[name=board] option', (os) => os.map((o) => o.value));
  check(JSON.stringify(offered) === JSON.stringify(['', ...boards]), `board choices: ${offered.join(', ')}`);

  // The registered data set, offered by its job name.
  const forms = await page.$$eval('#dataset-forms option', (os) => os.map((o) => o.value));
  check(forms[0] === `data:${registered}` && forms.includes('fashion-mnist') && forms.includes('folder:'),
    `data set choices: ${forms.join(', ')}`);

  // Form -> JSON: a field changes its place in the spec and nothing else.
  await page.fill('[name=trials]', '123');
  await page.selectOption('select[name=board]', 'nrf52840');
  const edited = await shownSpec();
  check(edited.budget.trials === 123 && edited.board === 'nrf52840' && JSON.stringify(edited.rungs) === JSON.stringify(recipe.rungs)
    && JSON.stringify(edited.promotion) === JSON.stringify(recipe.promotion) && edited.strategy.population === recipe.strategy.population,
  'form edits reach the JSON; rungs, promotion and strategy parameters (not in the form) kept');
  await page.fill('[name=wall_seconds]', '');
  check(!('wall_seconds' in (await shownSpec()).budget), 'an emptied field is left out of the JSON');

  // JSON -> form, and invalid JSON.
  await page.fill('#spec-json', '{"name": "half');
  check((await page.textContent('#spec-json-error')).startsWith('The JSON is not valid'), `invalid JSON: "${await page.textContent('#spec-json-error')}"`);
  check(await value('trials') === '123', 'invalid JSON leaves the form as it was');
  await page.fill('#spec-json', JSON.stringify({ ...recipe, budget: { trials: 9 }, evaluator: 'synthetic', synthetic_delay_ms: 5 }));
  check(await value('trials') === '9' && await value('evaluator') === 'synthetic' && await page.isVisible('[name=synthetic_delay_ms]')
    && !(await page.isVisible('[name=epochs]')) && (await page.textContent('#spec-json-error')) === '',
  'JSON edits reach the form (and the synthetic evaluator hides the training fields)');

  // The server's validation error beside its field.
  await page.fill('#spec-json', JSON.stringify({ name: 'bad', dataset: 'synthetic', budget: { trials: 3 }, final: { enabled: true, training: { epochs: 0 } } }));
  expectError(400, '/api/v1/jobs');
  await page.click('#submit-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#submit-error').textContent.length > 0);
  const refusal = await page.textContent('#submit-error');
  const fieldError = await page.textContent('#field-error-final_epochs');
  check(refusal.startsWith('final.training.epochs') && fieldError.length > 0
    && await page.getAttribute('[name=final_epochs]', 'aria-invalid') === 'true', `server refusal on its field: "${refusal}" -> "${fieldError}"`);

  // A real job, tiny: three proposals trained for three epochs on the 8x8
  // synthetic data set (one epoch leaves them at chance, which a final
  // round never retrains), then the best network retrained and quantised;
  // about 30 s on a busy 2-core machine.
  const tiny = {
    name: 'tiny-real', dataset: 'synthetic', seed: 2,
    training: { epochs: 3, batch_size: 32, threads: 1 },
    final: { enabled: true, networks: 1, neighbours: 0, training: { epochs: 3, threads: 1 } },
    budget: { trials: 3 },
    bounds: { val_error: 0.95, peak_sram_bytes: 64000, flash_bytes: 64000, macs: 30000000 },
    constraints: { peak_sram_bytes: 64000, flash_bytes: 64000, macs: 30000000 },
  };
  await page.fill('#spec-json', JSON.stringify(tiny));
  await page.selectOption('select[name=board]', 'stm32l4r5');
  await page.click('#submit-form button[type=submit]');
  await page.waitForSelector('#pareto-chart');
  const jobId = decodeURIComponent(page.url().split('#/jobs/')[1]);
  const submitted = (await apiGet(`/jobs/${jobId}`));
  check(submitted.name === 'tiny-real', `submitted from the form: job ${jobId}`);
  await page.waitForSelector('#final-front-card:not([hidden])', { timeout: 120_000 });
  let job = await apiGet(`/jobs/${jobId}`);
  for (let i = 0; job.status !== 'succeeded' || job.finalizing; ++i) {
    if (i > 600 || ['failed', 'cancelled'].includes(job.status)) throw new Error(`the tiny job did not finish: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 250));
    job = await apiGet(`/jobs/${jobId}`);
  }
  const front = await apiGet(`/jobs/${jobId}/pareto`);
  check(front.final.length >= 1, `final front of ${front.final.length} from the form's job`);
  await page.screenshot({ path: path.join(artifacts, 'form-job.png'), fullPage: true });

  // The final trial's page: each memory figure with its runtime and sentence.
  const finalTrial = front.final[0];
  await page.goto(`${base}/#/jobs/${jobId}/trials/${finalTrial.trial_id}`);
  await page.waitForSelector('#memory-table');
  const detail = await apiGet(`/jobs/${jobId}/trials/${finalTrial.trial_id}`);
  const row = async (id) => page.$$eval(`#${id} td`, (cs) => cs.map((c) => c.textContent));
  const n = (v) => (v == null ? '—' : v.toLocaleString('en-US'));
  const r = detail.cost_report, pex = detail.partial_execution;
  const expected = {
    'sram-tflm': ['SRAM', 'TFLM, reference kernels', n(r.tflm_total_arena_bytes)],
    'sram-tflm-cmsis-nn': ['SRAM', 'TFLM + CMSIS-NN', n(r.tflm_cmsis_nn_total_arena_bytes)],
    'sram-unas-c': ['SRAM', 'unas C library, whole tensors', n(pex?.whole_peak_sram_bytes)],
    'sram-unas-c-pex': ['SRAM', 'unas C library, partial execution', n(pex?.peak_sram_bytes)],
    'flash-weights': ['flash', 'weights and biases', n(r.flash_bytes)],
    'flash-tflite': ['flash', 'the .tflite file', n(detail.tflite_bytes)],
    'flash-c-library': ['flash', 'unas C library, Cortex-M4', n(detail.metrics.c_library_flash_bytes)],
  };
  for (const [id, cells] of Object.entries(expected)) {
    const got = await row(id);
    check(JSON.stringify(got.slice(0, 3)) === JSON.stringify(cells) && got[3].length > 40, `${id}: ${got.slice(0, 3).join(' | ')}`);
  }
  // The .tflite figure is the model's exact size, as the download gives it.
  const model = await fetch(`${base}/api/v1/jobs/${jobId}/trials/${finalTrial.trial_id}/model.tflite`, { headers: { Authorization: `Bearer ${token}` } });
  const modelBytes = (await model.arrayBuffer()).byteLength;
  check(detail.has_tflite && detail.tflite_bytes === modelBytes && modelBytes > r.flash_bytes,
    `.tflite ${modelBytes} B = the downloaded model, more than its ${r.flash_bytes} B of weights`);
  // The C library's flash: measured by the embedded worker when this machine
  // has arm-none-eabi-gcc (CI does: deploy/install-deps.sh), else null with
  // the reason on the page. Weights are only part of it (plus the schedule,
  // requantisation constants and the kernels' code).
  const cLibrary = detail.metrics.c_library_flash_bytes, cSentence = (await row('flash-c-library'))[3];
  if (spawnSync('arm-none-eabi-gcc', ['--version']).status === 0) {
    check(Number.isInteger(cLibrary) && cLibrary > r.flash_bytes && detail.metrics.c_library_flash_note === ''
      && cSentence.includes('-mcpu=cortex-m4') && cSentence.includes('text + data'),
    `C library ${cLibrary} B measured, more than its ${r.flash_bytes} B of weights: "${cSentence.slice(0, 60)}…"`);
  } else {
    check(cLibrary == null && cSentence === 'Not measured: arm-none-eabi-gcc not found on the worker.',
      `no arm-none-eabi-gcc here: "${cSentence}"`);
  }
  check((await page.textContent('#trial-final-accuracy span')) === 'final test accuracy', 'a final trial says "final test accuracy"');
  await page.screenshot({ path: path.join(artifacts, 'form-trial.png'), fullPage: true });
  return jobId;
}
