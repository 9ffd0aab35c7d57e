// One trial: float and int8 errors side by side, its rung (or final round),
// the trial it was promoted from and its final test accuracy, its costs, the SRAM
// timeline (build order, best order, partial execution), the layer list, and
// downloads of the JSON export and of the int8 model (.tflite).
import { apiBlob, api, request } from './api.js';
import { memoryTimeline, TIMELINE_COLORS } from './charts.js';
import { crumbs, el, fmtBytes, fmtInt, fmtNum, fmtPct, main, NONE, saveBlob, stat, statusCell } from './dom.js';
import { finalRoundOf, finalTestAccuracy, int8Tested, isFinal, promotedFrom, rungLabel, trialHref } from './fidelity.js';

// Rung, promotion, final round and test accuracy (fidelity.js). "Final"
// only for a final round's trial: a search trial's test accuracy is that of
// a network trained at its rung's low fidelity, never retrained.
function fidelityStats(jobId, t) {
  const from = promotedFrom(t);
  const accuracy = finalTestAccuracy(t);
  const shown = accuracy == null ? NONE : `${fmtPct(accuracy)}${int8Tested(t) ? ' (int8)' : ''}`;
  return [
    stat('rung', rungLabel(t), 'trial-rung'),
    stat('promoted from', from ? el('a', { href: trialHref(jobId, from) }, `#${from}`) : NONE, 'trial-promoted-from'),
    stat('final round', finalRoundOf(t) || NONE, 'trial-final-round'),
    isFinal(t) ? stat('final test accuracy', shown, 'trial-final-accuracy')
      : stat('test accuracy at its rung (not retrained)', shown, 'trial-test-accuracy'),
    t.proposal_id != null ? stat('proposal', `#${t.proposal_id}`, 'trial-proposal') : '',
  ];
}

// Float and int8 validation and test error in one small table.
function accuracyTable(metrics) {
  const m = metrics || {};
  const row = (label, float, int8) => el('tr', {}, el('th', {}, label), el('td', { class: 'num' }, fmtPct(float)), el('td', { class: 'num' }, fmtPct(int8)));
  return el('table', { id: 'accuracy-table', class: 'compact' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Error'), el('th', { class: 'num' }, 'float'), el('th', { class: 'num' }, 'int8'))),
    el('tbody', {}, row('validation', m.val_error, m.int8_val_error), row('test', m.test_error, m.int8_test_error)));
}

// Whether the trial has an int8 model: the trial JSON's has_tflite when the
// server sends it, else a HEAD request (2xx: yes; 404: none), and a GET when
// the server routes only GET (405; models for microcontrollers are small).
// Resolves to { available, reason }.
async function tfliteAvailability(t, modelPath) {
  const none = { available: false, reason: 'this trial has no int8 model' };
  if (typeof t.has_tflite === 'boolean') return t.has_tflite ? { available: true, reason: '' } : none;
  for (const method of ['HEAD', 'GET']) {
    try {
      await request(modelPath, { method });
      return { available: true, reason: '' };
    } catch (e) {
      if (e.status === 401) throw e;
      if (e.status === 404) return none;
      if (e.status !== 405 || method === 'GET') return { available: false, reason: `the int8 model cannot be offered (${e.message})` };
    }
  }
  throw new Error('unreachable: GET always returns');
}

function downloadButtons(jobId, t, base) {
  const message = el('span', { class: 'error', role: 'alert', id: 'download-error' });
  const download = (id, label, path, fileName) => el('button', { type: 'button', id, onclick: async () => {
    message.textContent = '';
    try {
      saveBlob(await apiBlob(path), fileName);
    } catch (e) {
      if (e.status !== 401) message.textContent = `${label}: ${e.message}`;
    }
  } }, label);
  const exportButton = download('download-export', 'Download export (JSON)', `${base}/export`, `${jobId}-trial-${t.trial_id}.json`);
  const modelPath = `${base}/model.tflite`;
  const modelButton = download('download-tflite', 'Download int8 model (.tflite)', modelPath, `${jobId}-trial-${t.trial_id}.tflite`);
  const modelNote = el('span', { class: 'muted', id: 'tflite-note' }, 'checking for an int8 model…');
  modelButton.disabled = true;
  tfliteAvailability(t, modelPath).then(({ available, reason }) => {
    modelButton.disabled = !available;
    modelNote.textContent = reason;
  }).catch(() => { modelNote.textContent = ''; });
  return el('p', { class: 'controls' }, exportButton, modelButton, modelNote, message);
}

// The operators an operator reads: "input" (the network's, index -1) or
// their numbers, so that a branch (an Add of two earlier operators) reads
// as one and not as a wrong shape.
export const inputsOf = (op) => (op.inputs || []).map((i) => (i < 0 ? 'input' : `#${i}`)).join(', ') || NONE;

function layersTable(report) {
  const headers = ['#', 'Operator', 'Description', 'Inputs', 'Output shape (H×W×C)', 'Params', 'MACs', 'Flash, weights (B)', 'Live SRAM, best order (B)'];
  return el('table', { id: 'layers-table' },
    el('thead', {}, el('tr', {}, ...headers.map((h, i) => el('th', { class: i >= 5 ? 'num' : '' }, h)))),
    el('tbody', {}, ...report.ops.map((op) => el('tr', {},
      el('td', {}, op.index), el('td', {}, op.op), el('td', {}, op.description), el('td', {}, inputsOf(op)), el('td', {}, op.output_shape.join('×')),
      el('td', { class: 'num' }, fmtInt(op.params)), el('td', { class: 'num' }, fmtInt(op.macs)),
      el('td', { class: 'num' }, fmtInt(op.flash_bytes)), el('td', { class: 'num' }, fmtInt(op.live_bytes_best_order))))));
}

// The compiler flags of the C library's flash figure (firmware/cortex_m_flash.h
// kCortexM4FlashFlags, the README's "Put it on a board").
export const C_LIBRARY_FLAGS = '-std=c99 -mcpu=cortex-m4 -mthumb -O2 -ffunction-sections -fdata-sections';

// The C library row's sentence: what the figure is, or why there is none.
export function cLibraryFlashSentence(t) {
  const m = t.metrics || {};
  if (m.c_library_flash_bytes != null) {
    return `The generated C library (model.c and unas_kernels.c, as unas export writes them) compiled with arm-none-eabi-gcc ${C_LIBRARY_FLAGS}: text + data of the objects before linking, as the worker measured it (weights, requantisation constants, the schedule and the kernels\u2019 code); startup code and libc are extra.`;
  }
  if (!t.has_tflite) return 'This trial has no int8 model, so no C library.';
  if (m.c_library_flash_note) return `Not measured: ${m.c_library_flash_note}.`;
  return 'Not measured: the worker that trained this trial did not measure it (an older version).';
}

// What each runtime needs, one row each with the sentence that says what
// the figure is; "—" where the server has no figure (issue 30: three peak
// SRAM figures without saying which runtime reaches which).
export function memoryRows(t, report, pex) {
  return [
    ['sram-tflm', 'SRAM', 'TFLM, reference kernels', report.tflm_total_arena_bytes,
      `MicroInterpreter\u2019s tensor arena: activations as TFLM\u2019s planner lays them out (${fmtInt(report.tflm_arena_bytes)} B) plus its persistent part (${fmtInt(report.tflm_persistent_bytes)} B of tensor and node structs); the stack and the interpreter object are outside it.`],
    ['sram-tflm-cmsis-nn', 'SRAM', 'TFLM + CMSIS-NN', report.tflm_cmsis_nn_total_arena_bytes,
      'The same arena with CMSIS-NN\u2019s optimised kernels, which add their scratch buffers to it.'],
    ['sram-unas-c', 'SRAM', 'unas C library, whole tensors', pex?.whole_peak_sram_bytes,
      'The generated C library\u2019s arena (unas export --c): operators in the best order, each tensor whole.'],
    ['sram-unas-c-pex', 'SRAM', 'unas C library, partial execution', pex?.peak_sram_bytes,
      'The same library running the planned segments in channel slices, so a segment\u2019s whole intermediate tensor is never live at once (the timeline below).'],
    ['flash-weights', 'flash', 'weights and biases', report.flash_bytes,
      'int8 weights and int32 biases: what the search counts against the flash constraint; either runtime\u2019s code comes on top.'],
    ['flash-tflite', 'flash', 'the .tflite file', t.tflite_bytes,
      t.tflite_bytes == null ? 'This trial has no int8 model (not trained, or not quantised).'
        : 'The trial\u2019s int8 model exactly as downloaded: weights plus the flatbuffer\u2019s tensors, operators, quantisation and input contract; TFLM\u2019s own code is extra.'],
    ['flash-c-library', 'flash', 'unas C library, Cortex-M4', t.metrics?.c_library_flash_bytes, cLibraryFlashSentence(t)],
  ];
}

function memoryTable(t, report, pex) {
  return el('table', { id: 'memory-table' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Memory'), el('th', {}, 'Runtime or part'), el('th', { class: 'num' }, 'Bytes'), el('th', {}, 'What the figure is'))),
    el('tbody', {}, ...memoryRows(t, report, pex).map(([id, kind, what, bytes, why]) => el('tr', { id },
      el('td', {}, kind), el('td', {}, what), el('td', { class: 'num' }, bytes == null ? NONE : fmtInt(bytes)), el('td', { class: 'wrap' }, why)))));
}

export const TIMELINE_X_TITLE = 'operators executed (partial execution: its slices within their segment\u2019s operators)';

// Where partial execution's steps go on a timeline whose x axis counts
// operators (one per step in build and best order): a step outside any
// segment is one operator wide; a segment's interleaved slice steps share
// as many units as the segment has operators. So the plan's many steps sit
// under the operators they run instead of stretching the axis (issue 30: a
// plan of 150 steps squeezed the other lines into 6 % of the plot).
// steps: the trial JSON's partial_execution.steps ({op, segment?}, in order).
export function pexStepPositions(steps) {
  const xs = [];
  let at = 0;
  for (let i = 0; i < steps.length;) {
    const segment = steps[i].segment;
    if (segment == null || segment < 0) { xs.push(at); at += 1; i += 1; continue; }
    let j = i;
    while (j < steps.length && steps[j].segment === segment) j += 1;
    const ops = new Set(steps.slice(i, j).map((s) => s.op)).size;
    for (let k = i; k < j; ++k) xs.push(at + ((k - i) * ops) / (j - i));
    at += ops;
    i = j;
  }
  return xs;
}

export async function trialView(jobId, trialId) {
  const base = `/jobs/${encodeURIComponent(jobId)}/trials/${encodeURIComponent(trialId)}`;
  const [job, t] = await Promise.all([api(`/jobs/${encodeURIComponent(jobId)}`), api(base)]);
  crumbs.replaceChildren(el('a', { href: '#/' }, 'Jobs'), ' / ', el('a', { href: `#/jobs/${encodeURIComponent(jobId)}` }, job.name), ` / trial ${t.trial_id}`);
  const report = t.cost_report;
  const pex = t.partial_execution;
  const timeline = el('canvas', { id: 'sram-timeline', role: 'img', 'aria-label': 'SRAM live bytes at each step' });
  main.replaceChildren(
    el('h1', {}, `Trial ${t.trial_id} `, el('span', { class: 'muted' }, `${job.name} · ${t.accounting} accounting · input ${t.input.shape.join('×')}`)),
    el('section', { class: 'card' },
      el('div', { class: 'stats' },
        stat('status', statusCell(t.status)), accuracyTable(t.metrics), ...fidelityStats(jobId, t),
        stat(`peak SRAM, the search\u2019s objective (${t.accounting} accounting)`, fmtBytes(report.peak_sram_bytes), 'trial-peak-sram'),
        stat('flash: weights and biases', fmtBytes(report.flash_bytes), 'trial-flash'), stat('MACs', fmtInt(report.macs)), stat('params', fmtInt(report.params)),
        stat('latency', t.costs.latency_ms == null ? NONE : `${fmtNum(t.costs.latency_ms, 2)} ms`)),
      downloadButtons(jobId, t, base)),
    el('section', { class: 'card' }, el('h2', {}, 'Memory by runtime'), memoryTable(t, report, pex)),
    el('section', { class: 'card', id: 'timeline' }, el('h2', {}, 'SRAM timeline: bytes live at each step'), el('div', { class: 'chart' }, timeline)),
    el('section', { class: 'card scroll' }, el('h2', {}, 'Layers'), layersTable(report)));

  const series = [
    { label: 'build order', bytes: report.timeline_build_order, color: TIMELINE_COLORS.file, dash: [4, 3] },
    { label: 'best order', bytes: report.timeline_best_order, color: TIMELINE_COLORS.best },
  ];
  if (pex) {
    series.push({ label: 'partial execution', bytes: pex.steps.map((s) => s.live_bytes), xs: pexStepPositions(pex.steps),
      color: TIMELINE_COLORS.partial });
  }
  // The hard constraint when the job has one, else the soft bound.
  const constraint = t.limits?.constraints?.peak_sram_bytes, bound = t.limits?.bounds?.peak_sram_bytes;
  memoryTimeline(timeline, series, constraint != null ? { label: 'SRAM constraint', bytes: constraint }
    : bound != null ? { label: 'SRAM bound', bytes: bound } : null, TIMELINE_X_TITLE);
}
