// The jobs view: the jobs a page at a time, newest first, with their
// progress and figures (polled), and the form that submits a new one (the
// server's validation message shown as is).
import { api } from './api.js';
import { crumbs, el, fmtInt, fmtNum, fmtPct, main, onLeave, statusCell } from './dom.js';

// GET /api/v1/jobs pages (docs/api.md): a service may hold thousands of jobs,
// so the table shows one page and steps through them.
export const JOBS_PAGE_SIZE = 50;

export async function jobsView() {
  crumbs.replaceChildren('Jobs');
  const tbody = el('tbody');
  const table = el('table', { id: 'jobs-table' }, el('thead', {}, el('tr', {},
    el('th', {}, 'Job'), el('th', {}, 'Status'), el('th', {}, 'Progress'), el('th', { class: 'num', title: 'best feasible validation accuracy of the search; the job page shows the final test accuracy once the job is finalised' }, 'Best feasible accuracy (search, val)'),
    el('th', { class: 'num' }, 'Hypervolume'), el('th', {}, 'Created'))), tbody);
  // The page shown: its offset into the newest-first order (the API's page
  // token). Jobs submitted meanwhile shift the pages by as many rows.
  let offset = 0;
  const info = el('span', { id: 'jobs-page', class: 'muted' });
  const newer = el('button', { type: 'button', id: 'jobs-newer', class: 'secondary',
    onclick: () => { offset = Math.max(0, offset - JOBS_PAGE_SIZE); refresh(); } }, 'Newer');
  const older = el('button', { type: 'button', id: 'jobs-older', class: 'secondary',
    onclick: () => { offset += JOBS_PAGE_SIZE; refresh(); } }, 'Older');
  let latest = 0;  // a poll and a click may overlap: only the newest answer is shown
  const refresh = async () => {
    const mine = ++latest;
    const page = await api(`/jobs?${new URLSearchParams({ order: 'desc', page_size: JOBS_PAGE_SIZE, page_token: offset || '' })}`);
    if (mine !== latest) return;
    if (!page.jobs.length && offset > 0 && page.total > 0) {  // the page emptied: show the last one
      offset = Math.max(0, Math.floor((page.total - 1) / JOBS_PAGE_SIZE) * JOBS_PAGE_SIZE);
      return refresh();
    }
    tbody.replaceChildren(...page.jobs.map(jobRow));
    if (!page.total) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No jobs yet: submit one below.')));
    info.textContent = page.total
      ? `jobs ${fmtInt(offset + 1)}–${fmtInt(offset + page.jobs.length)} of ${fmtInt(page.total)}, newest first` : '';
    newer.disabled = offset === 0;
    older.disabled = !page.next_page_token;
  };
  main.replaceChildren(el('h1', {}, 'Jobs'),
    el('section', { class: 'card' }, el('div', { class: 'controls' }, info, newer, older), el('div', { class: 'scroll' }, table)),
    submitForm());
  await refresh();
  // The list changes slowly and has no event stream of its own: a gentle poll.
  const timer = setInterval(() => refresh().catch(() => {}), 3000);
  onLeave(() => clearInterval(timer));
}

function jobRow(j) {
  return el('tr', {},
    el('td', {}, el('a', { href: `#/jobs/${encodeURIComponent(j.job_id)}` }, `${j.name} (${j.job_id})`)),
    el('td', {}, statusCell(j.status), j.finalizing ? ' · finalizing' : ''),
    el('td', {}, el('progress', { max: j.trials_budget || 1, value: j.trials_proposed, 'aria-label': 'search proposals of the budget' }), ` ${j.trials_proposed}/${j.trials_budget}`),
    el('td', { class: 'num' }, fmtPct(j.best_val_error == null ? null : 1 - j.best_val_error)),
    el('td', { class: 'num' }, fmtNum(j.hypervolume, 4)),
    el('td', {}, new Date(j.created_unix_ms).toLocaleString()));
}

const LIMIT_KEYS = ['val_error', 'peak_sram_bytes', 'flash_bytes', 'macs'];

// The job spec the form describes (docs/jobs.md); empty fields are left out.
function specOf(form) {
  const f = new FormData(form);
  const num = (k) => (f.get(k) === null || f.get(k) === '' ? undefined : Number(f.get(k)));
  const limits = (prefix) => {
    const out = {};
    for (const k of LIMIT_KEYS) if (num(`${prefix}${k}`) !== undefined) out[k] = num(`${prefix}${k}`);
    return out;
  };
  const spec = {
    name: f.get('name') || 'job', dataset: f.get('dataset'), evaluator: f.get('evaluator'), strategy: f.get('strategy'),
    accounting: f.get('accounting'), seed: num('seed'), budget: { trials: num('trials') },
    bounds: limits('b_'), constraints: limits('c_'),
    training: { epochs: num('epochs'), subset: num('subset') },
  };
  // "H,W,C" -> [H, W, C]; the server checks the numbers (and says which is wrong).
  const shape = (f.get('input_shape') || '').trim();
  if (shape !== '') spec.input_shape = shape.split(',').map((v) => Number(v.trim()));
  if (f.get('bad_files') === 'skip') spec.bad_files = 'skip';
  if (spec.evaluator === 'synthetic') {
    spec.synthetic_delay_ms = num('synthetic_delay_ms');
    delete spec.training;
  }
  return spec;
}

function submitForm() {
  const message = el('p', { id: 'submit-error', class: 'error', role: 'alert' });
  const field = (label, name, attrs = {}) => el('label', {}, label, el('input', { name, ...attrs }));
  const select = (label, name, options, value) => el('label', {}, label,
    el('select', { name }, ...options.map((o) => el('option', { value: o, selected: o === value }, o))));
  const form = el('form', { id: 'submit-form', class: 'submit', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    message.textContent = '';
    try {
      const job = await api('/jobs', { method: 'POST', body: specOf(form) });
      location.hash = `#/jobs/${encodeURIComponent(job.job_id)}`;
    } catch (err) {
      if (err.status !== 401) message.textContent = err.message;
    }
  } },
    field('Name', 'name', { value: 'search' }),
    // Any data set form the server knows (docs/data.md): a path is on the workers' machine.
    el('label', {}, 'Data set', el('input', { name: 'dataset', value: 'fashion-mnist', list: 'dataset-forms',
      title: 'fashion-mnist, synthetic, idx:DIR, cifar10:DIR, folder:DIR (one subfolder per class), csv:FILE, speech_commands:DIR (keyword clips; options: the job field audio, docs/keyword-spotting.md)' })),
    el('datalist', { id: 'dataset-forms' }, ...['fashion-mnist', 'synthetic', 'folder:', 'csv:', 'speech_commands:', 'idx:', 'cifar10:']
      .map((o) => el('option', { value: o }))),
    field('Input shape H,W,C (folder:, csv:)', 'input_shape', { placeholder: 'e.g. 32,32,3' }),
    select('Bad image files', 'bad_files', ['fail', 'skip'], 'fail'),
    select('Evaluator', 'evaluator', ['train', 'synthetic'], 'train'),
    select('Strategy', 'strategy', ['aging', 'bo', 'random'], 'aging'),
    select('Accounting', 'accounting', ['tflm', 'unas'], 'tflm'),
    field('Budget (trials)', 'trials', { type: 'number', value: 20 }),
    field('Seed', 'seed', { type: 'number', value: 1 }),
    field('Epochs', 'epochs', { type: 'number', value: 1 }),
    field('Training subset (0..1]', 'subset', { type: 'number', step: 'any', value: 0.05 }),
    field('Synthetic delay (ms)', 'synthetic_delay_ms', { type: 'number', value: 100 }),
    field('Bound: val error', 'b_val_error', { type: 'number', step: 'any', value: 0.3 }),
    field('Bound: peak SRAM (bytes)', 'b_peak_sram_bytes', { type: 'number', value: 64000 }),
    field('Bound: flash (bytes)', 'b_flash_bytes', { type: 'number', value: 64000 }),
    field('Bound: MACs', 'b_macs', { type: 'number', value: 30000000 }),
    field('Constraint: peak SRAM (bytes)', 'c_peak_sram_bytes', { type: 'number', value: 64000 }),
    field('Constraint: flash (bytes)', 'c_flash_bytes', { type: 'number', value: 64000 }),
    field('Constraint: MACs', 'c_macs', { type: 'number', value: 30000000 }),
    el('button', { type: 'submit' }, 'Submit job'));
  return el('section', { class: 'card' }, el('h2', {}, 'Submit a job'),
    el('p', { class: 'muted' }, 'Constraints are hard: a candidate beyond one is never trained. Bounds are soft: they set the hypervolume\u2019s reference point.'),
    form, message);
}
