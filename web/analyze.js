// "Analyse a model": upload any .tflite, see where its SRAM goes (the memory
// timeline in file order, best order and partial execution, the same chart
// as the trial page's), the operator table, and download the model with its
// operators reordered. The server does the analysis (POST /api/v1/analyze,
// the file's bytes as application/octet-stream; the answer's keys are
// COMMON.md's "Analyze JSON"); a refused file shows the server's message.
import { apiBlob, api } from './api.js';
import { memoryTimeline, TIMELINE_COLORS } from './charts.js';
import { crumbs, el, fmtBytes, fmtInt, main, NONE, saveBlob, stat } from './dom.js';

const OCTETS = 'application/octet-stream';

// "model.tflite" -> "model.reordered.tflite"
export const reorderedName = (fileName) => `${fileName.replace(/\.tflite$/i, '') || 'model'}.reordered.tflite`;

function figuresTable(a) {
  const pex = a.partial_execution || {};
  const row = (label, f, b, p) => el('tr', {}, el('th', {}, label), ...[f, b, p].map((v) => el('td', { class: 'num' }, v)));
  return el('table', { id: 'analyze-figures', class: 'compact' },
    el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', { class: 'num' }, 'file order'), el('th', { class: 'num' }, 'best order'), el('th', { class: 'num' }, 'partial execution'))),
    el('tbody', {},
      row('peak live bytes', fmtBytes(a.file_order.peak_bytes), fmtBytes(a.best_order.peak_bytes), pex.applies ? fmtBytes(pex.peak_bytes) : NONE),
      row('TFLM planned arena', fmtBytes(a.file_order.tflm_arena_bytes), fmtBytes(a.best_order.tflm_arena_bytes), NONE),
      row('TFLM persistent', fmtBytes(a.file_order.tflm_persistent_bytes), fmtBytes(a.best_order.tflm_persistent_bytes), NONE),
      row('TFLM total arena (reference kernels)', fmtBytes(a.file_order.tflm_total_arena_bytes), fmtBytes(a.best_order.tflm_total_arena_bytes), NONE),
      row('TFLM total arena (CMSIS-NN kernels)', fmtBytes(a.file_order.tflm_cmsis_nn_total_arena_bytes), fmtBytes(a.best_order.tflm_cmsis_nn_total_arena_bytes), NONE)));
}

function operatorTable(a) {
  const headers = ['#', 'Operator', 'Output shape', 'Output (B)', 'Live, file order (B)', 'Running peak, file order (B)', 'Step, best order', 'Live, best order (B)'];
  return el('table', { id: 'analyze-ops' },
    el('thead', {}, el('tr', {}, ...headers.map((h, i) => el('th', { class: i >= 3 ? 'num' : '' }, h)))),
    el('tbody', {}, ...a.operators.map((op) => el('tr', {},
      el('td', {}, op.index), el('td', {}, op.name), el('td', {}, (op.output_shape || []).join('×')),
      el('td', { class: 'num' }, fmtInt(op.output_bytes)),
      el('td', { class: 'num' }, fmtInt(op.file_order?.live_bytes)), el('td', { class: 'num' }, fmtInt(op.file_order?.running_peak_bytes)),
      el('td', { class: 'num' }, op.best_order?.step ?? NONE), el('td', { class: 'num' }, fmtInt(op.best_order?.live_bytes))))));
}

function timelineSeries(a) {
  const pex = a.partial_execution || {};
  const pexBytes = pex.applies && Array.isArray(pex.timeline_bytes) ? pex.timeline_bytes : [];
  return [
    { label: 'file order', bytes: a.file_order.timeline_bytes, color: TIMELINE_COLORS.file, dash: [4, 3] },
    { label: 'best order', bytes: a.best_order.timeline_bytes, color: TIMELINE_COLORS.best },
    { label: pex.applies ? 'partial execution' : 'partial execution (does not apply)',
      bytes: pexBytes, color: TIMELINE_COLORS.partial },
  ];
}

// The analysis of one file, shown under the upload form; returns its chart.
function showAnalysis(results, file, bytes, a) {
  const message = el('span', { class: 'error', role: 'alert', id: 'reorder-error' });
  const reorder = el('button', { type: 'button', id: 'analyze-reorder', onclick: async () => {
    message.textContent = '';
    reorder.disabled = true;
    try {
      saveBlob(await apiBlob('/analyze?reorder=best', { method: 'POST', body: bytes, contentType: OCTETS }), reorderedName(file.name));
    } catch (e) {
      if (e.status !== 401) message.textContent = `reordering ${file.name}: ${e.message}`;
    } finally {
      reorder.disabled = false;
    }
  } }, 'Download reordered model');
  const m = a.model || {};
  const canvas = el('canvas', { id: 'analyze-timeline', role: 'img', 'aria-label': 'live bytes at each step in file order, best order and partial execution' });
  const pex = a.partial_execution || {};
  results.replaceChildren(
    el('section', { class: 'card' },
      el('h2', {}, file.name),
      el('div', { class: 'stats', id: 'analyze-stats' },
        stat('operators', fmtInt(m.operators)), stat('tensors', fmtInt(m.tensors)), stat('subgraphs', fmtInt(m.subgraphs)),
        stat('saving by reordering', fmtBytes(a.best_order.saving_bytes)),
        stat('partial execution', pex.applies ? `${fmtBytes(pex.peak_bytes)}, ${(pex.segments || []).length} segment(s)` : 'does not apply')),
      (m.notes || []).length ? el('ul', { id: 'analyze-notes', class: 'muted' }, ...m.notes.map((n) => el('li', {}, n))) : '',
      !pex.applies && pex.reason ? el('p', { class: 'muted' }, `Partial execution: ${pex.reason}`) : '',
      figuresTable(a),
      el('p', { class: 'controls' }, reorder, message)),
    el('section', { class: 'card', id: 'analyze-timeline-card' }, el('h2', {}, 'Memory timeline: bytes live at each step'), el('div', { class: 'chart' }, canvas),
      el('p', { class: 'muted' }, 'A step is one operator in file and best order; partial execution runs the operators it slices in more, smaller steps.')),
    el('section', { class: 'card scroll' }, el('h2', {}, 'Operators (file order)'), operatorTable(a)));
  return memoryTimeline(canvas, timelineSeries(a), null);
}

export async function analyzeView() {
  crumbs.replaceChildren(el('a', { href: '#/' }, 'Jobs'), ' / Analyse a model');
  const error = el('p', { class: 'error', role: 'alert', id: 'analyze-error' });
  const results = el('div', { id: 'analyze-results' });
  const input = el('input', { type: 'file', id: 'analyze-file', name: 'model', accept: '.tflite,application/octet-stream' });
  let chart = null;  // the shown analysis's timeline
  const run = async () => {
    const file = input.files[0];
    error.textContent = '';
    chart?.destroy();
    chart = null;
    results.replaceChildren();
    if (!file) return;
    const bytes = await file.arrayBuffer();
    try {
      const analysis = await api('/analyze', { method: 'POST', body: bytes, contentType: OCTETS });
      chart = showAnalysis(results, file, bytes, analysis);
    } catch (e) {
      if (e.status !== 401) error.textContent = `${file.name} was refused: ${e.message}`;
    }
  };
  input.addEventListener('change', () => { run().catch((e) => { error.textContent = e.message; }); });
  main.replaceChildren(
    el('h1', {}, 'Analyse a model'),
    el('section', { class: 'card' },
      el('p', { class: 'muted' }, 'Any TensorFlow Lite model: the bytes live at each operator in the file\u2019s order, in the order with the smallest peak, and with partial execution; TFLM\u2019s planned arena; and the model with its operators reordered.'),
      el('label', {}, 'TFLite model (.tflite)', input),
      error),
    results);
}
