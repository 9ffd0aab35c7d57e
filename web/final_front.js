// The job page's final front: the trials of the latest final round that
// were retrained from scratch with the final recipe and that no other of the
// round dominates (GET .../pareto "final", best error first), with the
// accuracy a user reads first (fidelity.js finalTestAccuracy: the int8
// model's when quantised), the resources, and the int8 model's download.
import { apiBlob } from './api.js';
import { el, fmtInt, fmtPct, saveBlob } from './dom.js';
import { finalTestAccuracy, int8Tested, trialHref } from './fidelity.js';
import { measuredCosts } from './trials.js';

// The best final test accuracy of a pareto answer's final front, with the
// trial it belongs to: { accuracy, trial, round }, or null when the answer
// has no final front (a server from before final retraining sends none).
export function bestFinal(pareto) {
  let best = null;
  for (const t of pareto?.final || []) {
    const accuracy = finalTestAccuracy(t);
    if (accuracy != null && (!best || accuracy > best.accuracy)) best = { accuracy, trial: t, round: pareto.final_round || 0 };
  }
  return best;
}

// Returns { section, render(pareto) }: the section is hidden while the
// front is empty.
export function finalFrontCard(jobId) {
  const title = el('h2', {});
  const tbody = el('tbody');
  const message = el('p', { class: 'error', role: 'alert', id: 'final-download-error' });
  const headers = [['Trial', false], ['Final test accuracy', true], ['Peak SRAM (B)', true], ['Flash, weights (B)', true], ['MACs', true], ['int8 model', false]];
  const section = el('section', { class: 'card', id: 'final-front-card', hidden: true }, title,
    el('div', { class: 'scroll' }, el('table', { id: 'final-front' },
      el('caption', {}, 'Accuracy on the test set; "int8" where the quantised model was tested, else the float model.'),
      el('thead', {}, el('tr', {}, ...headers.map(([h, numeric]) => el('th', { class: numeric ? 'num' : '' }, h)))), tbody)),
    message);
  const download = (t) => el('a', { href: '#', class: 'tflite-link', onclick: async (e) => {
    e.preventDefault();
    message.textContent = '';
    try {
      saveBlob(await apiBlob(`/jobs/${encodeURIComponent(jobId)}/trials/${t.trial_id}/model.tflite`), `${jobId}-trial-${t.trial_id}.tflite`);
    } catch (err) {
      if (err.status !== 401) message.textContent = `trial ${t.trial_id}'s model: ${err.message}`;
    }
  } }, '.tflite');
  const row = (t) => {
    const c = measuredCosts(t);
    const accuracy = finalTestAccuracy(t);
    return el('tr', {},
      el('td', {}, el('a', { href: trialHref(jobId, t.trial_id) }, `#${t.trial_id}`)),
      el('td', { class: 'num' }, fmtPct(accuracy), accuracy != null && int8Tested(t) ? el('span', { class: 'muted' }, ' int8') : ''),
      el('td', { class: 'num' }, fmtInt(c.peak_sram_bytes)),
      el('td', { class: 'num' }, fmtInt(c.flash_bytes)),
      el('td', { class: 'num' }, fmtInt(c.macs)),
      el('td', {}, t.has_tflite ? download(t) : ''));
  };
  return {
    section,
    render(pareto) {
      const front = pareto?.final || [];
      section.hidden = front.length === 0;
      title.textContent = `Final front (retrained from scratch, round ${pareto?.final_round || 0})`;
      tbody.replaceChildren(...front.map(row));
    },
  };
}
