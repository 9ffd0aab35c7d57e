// The job page's "Finalize" control: retrains the search's front from
// scratch with the job's final recipe (POST .../finalize, body {} or
// {"epochs": N}), offered while the job runs or once it has succeeded. The
// server answers the job's JSON (then onJob(job) runs) or refuses with a
// message (409: cancelled, failed, or no completed trial), shown as it is.
import { api } from './api.js';
import { el } from './dom.js';

const FINALIZABLE = ['running', 'succeeded', 'cancelled'];

// Returns { node, render(job) }.
export function finalizeControl(path, onJob) {
  const epochs = el('input', { type: 'number', name: 'final-epochs', id: 'final-epochs', min: 1, step: 1, placeholder: 'job default', inputmode: 'numeric' });
  const message = el('span', { class: 'error', role: 'alert', id: 'finalize-error' });
  const button = el('button', { type: 'submit', id: 'finalize' }, 'Finalize');
  const form = el('form', { class: 'controls', id: 'finalize-form', onsubmit: async (e) => {
    e.preventDefault();
    message.textContent = '';
    const body = {};
    if (epochs.value !== '') {
      const n = Number(epochs.value);
      if (!Number.isInteger(n) || n < 1) { message.textContent = 'epochs must be a whole number of at least 1 (or empty for the job\'s own)'; return; }
      body.epochs = n;
    }
    button.disabled = true;
    try {
      onJob(await api(`${path}/finalize`, { method: 'POST', body }));
    } catch (err) {
      if (err.status !== 401) message.textContent = `Finalize refused: ${err.message}`;
      button.disabled = false;
    }
  } },
  el('label', {}, 'final epochs (optional)', epochs), button,
  el('span', { class: 'muted' }, 'retrain the front from scratch with the final recipe'), message);
  return {
    node: form,
    render(job) {
      form.hidden = !FINALIZABLE.includes(job.status);
      button.disabled = Boolean(job.finalizing);
      button.textContent = job.finalizing ? 'Finalizing…' : job.status === 'running' ? 'Stop and finalize' : 'Finalize';
    },
  };
}
