// The unas dashboard: jobs, one job (Pareto front, hypervolume, trials, live
// over server-sent events) and one trial (layers, SRAM timeline). Plain ES
// module; charts by chart.js (window.Chart, loaded from web/node_modules).
const Chart = window.Chart;
const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const logout = document.getElementById('logout');

// ------------------------------------------------------------ API and token

const TOKEN_KEY = 'unas-token';
const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...(options.body ? { 'Content-Type': 'application/json' } : {}) };
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showTokenForm('The token was refused; enter it again.'); }
  if (!response.ok) throw new ApiError(response.status, body.error || response.statusText);
  return body;
}

function showTokenForm(message = '') {
  stopLive();
  logout.hidden = true;
  crumbs.textContent = '';
  main.replaceChildren(el('section', { class: 'card' },
    el('h1', {}, 'Access token'),
    el('p', { class: 'muted' }, 'The coordinator printed it at its first start (also in DATA_DIR/token). It is kept for this browser session only.'),
    message ? el('p', { class: 'error', role: 'alert' }, message) : '',
    el('form', { id: 'token-form', class: 'submit', onsubmit: (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, e.target.elements.token.value.trim());
      route();
    } },
      el('label', {}, 'Token', el('input', { name: 'token', type: 'password', required: true, autocomplete: 'off', autofocus: true })),
      el('button', { type: 'submit' }, 'Continue'))));
  main.querySelector('input').focus();
}

// ------------------------------------------------------------ DOM helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== '' && c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const fmtInt = (v) => (v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US'));
const fmtPct = (v) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(2)}%`);
const fmtNum = (v, d = 3) => (v === null || v === undefined ? '–' : Number(v).toFixed(d));
const statusCell = (s) => el('span', { class: `status-${s}` }, s);

// The objectives the Pareto axes may show: label, how to read it off a trial,
// and where the job spec keeps its bound.
const AXES = {
  error: { label: 'validation error', get: (t) => t.metrics?.val_error, bound: 'val_error', fmt: fmtPct },
  peak_sram: { label: 'peak SRAM (bytes)', get: (t) => t.costs.peak_sram_bytes, bound: 'peak_sram_bytes', fmt: fmtInt },
  flash: { label: 'flash (bytes)', get: (t) => t.costs.flash_bytes, bound: 'flash_bytes', fmt: fmtInt },
  macs: { label: 'MACs', get: (t) => t.costs.macs, bound: 'macs', fmt: fmtInt },
  latency: { label: 'latency (ms)', get: (t) => t.costs.latency_ms, bound: 'latency_ms', fmt: (v) => fmtNum(v, 2) },
};

// Within every soft bound of the spec (the dashboard's "feasible").
function feasible(trial, spec) {
  const bounds = spec?.bounds || {};
  return Object.values(AXES).every((a) => bounds[a.bound] == null || a.get(trial) == null || a.get(trial) <= bounds[a.bound]);
}

// ------------------------------------------------------------ routing

let live = null;   // the running event stream's AbortController
let timers = [];   // intervals of the current view
let charts = [];   // chart.js instances of the current view

function stopLive() {
  if (live) live.abort();
  live = null;
  timers.forEach(clearInterval);
  timers = [];
  charts.forEach((c) => c.destroy());
  charts = [];
}

async function route() {
  stopLive();
  if (!token()) { showTokenForm(); return; }
  logout.hidden = false;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'jobs' && parts.length === 2) await jobView(parts[1]);
    else if (parts[0] === 'jobs' && parts[2] === 'trials' && parts.length === 4) await trialView(parts[1], parts[3]);
    else await jobsView();
  } catch (e) {
    if (e.status === 401) return;
    main.replaceChildren(el('section', { class: 'card' }, el('p', { class: 'error', role: 'alert' }, e.message)));
  }
  main.focus({ preventScroll: true });
}

logout.addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); showTokenForm(); });
window.addEventListener('hashchange', route);

// ------------------------------------------------------------ jobs view

async function jobsView() {
  crumbs.replaceChildren('Jobs');
  const tbody = el('tbody');
  const table = el('table', { id: 'jobs-table' }, el('thead', {}, el('tr', {},
    el('th', {}, 'Job'), el('th', {}, 'Status'), el('th', {}, 'Progress'), el('th', { class: 'num' }, 'Best feasible accuracy'),
    el('th', { class: 'num' }, 'Hypervolume'), el('th', {}, 'Created'))), tbody);
  const refresh = async () => {
    const { jobs } = await api('/jobs');
    tbody.replaceChildren(...jobs.slice().reverse().map((j) => {
      const done = j.trials_completed + j.trials_failed;
      return el('tr', {},
        el('td', {}, el('a', { href: `#/jobs/${encodeURIComponent(j.job_id)}` }, `${j.name} (${j.job_id})`)),
        el('td', {}, statusCell(j.status)),
        el('td', {}, el('progress', { max: j.trials_budget || 1, value: done, 'aria-label': 'trials finished' }), ` ${done}/${j.trials_budget}`),
        el('td', { class: 'num' }, j.best_val_error == null ? '–' : fmtPct(1 - j.best_val_error)),
        el('td', { class: 'num' }, fmtNum(j.hypervolume, 4)),
        el('td', {}, new Date(j.created_unix_ms).toLocaleString()));
    }));
    if (!jobs.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No jobs yet: submit one below.')));
  };
  main.replaceChildren(el('h1', {}, 'Jobs'), el('section', { class: 'card scroll' }, table), submitForm());
  await refresh();
  // The list changes slowly and has no event stream of its own: a gentle poll.
  timers.push(setInterval(() => refresh().catch(() => {}), 3000));
}

function submitForm() {
  const message = el('p', { id: 'submit-error', class: 'error', role: 'alert' });
  const field = (label, name, attrs = {}) => el('label', {}, label, el('input', { name, ...attrs }));
  const select = (label, name, options, value) => el('label', {}, label,
    el('select', { name }, ...options.map((o) => el('option', { value: o, selected: o === value }, o))));
  const form = el('form', { id: 'submit-form', class: 'submit', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    message.textContent = '';
    const f = new FormData(form);
    const num = (k) => (f.get(k) === null || f.get(k) === '' ? undefined : Number(f.get(k)));
    const limits = (prefix) => {
      const out = {};
      for (const k of ['val_error', 'peak_sram_bytes', 'flash_bytes', 'macs']) if (num(`${prefix}${k}`) !== undefined) out[k] = num(`${prefix}${k}`);
      return out;
    };
    const spec = {
      name: f.get('name') || 'job', dataset: f.get('dataset'), evaluator: f.get('evaluator'), strategy: f.get('strategy'),
      accounting: f.get('accounting'), seed: num('seed'), budget: { trials: num('trials') },
      bounds: limits('b_'), constraints: limits('c_'),
      training: { epochs: num('epochs'), subset: num('subset') },
    };
    if (spec.evaluator === 'synthetic') { spec.synthetic_delay_ms = num('synthetic_delay_ms'); delete spec.training; }
    try {
      const job = await api('/jobs', { method: 'POST', body: JSON.stringify(spec) });
      location.hash = `#/jobs/${encodeURIComponent(job.job_id)}`;
    } catch (err) {
      if (err.status !== 401) message.textContent = err.message;
    }
  } },
    field('Name', 'name', { value: 'search' }),
    select('Data set', 'dataset', ['fashion-mnist', 'synthetic'], 'fashion-mnist'),
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
  return el('section', { class: 'card' }, el('h2', {}, 'Submit a job'), form, message);
}

// ------------------------------------------------------------ job view

async function jobView(jobId) {
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  let job = await api(path);
  crumbs.replaceChildren(el('a', { href: '#/' }, 'Jobs'), ` / ${job.name}`);
  const stats = el('div', { class: 'stats', id: 'job-stats' });
  const cancel = el('button', { type: 'button', class: 'secondary', onclick: async () => { job = await api(`${path}/cancel`, { method: 'POST' }); renderStats(); } }, 'Cancel job');
  const renderStats = () => {
    const done = job.trials_completed + job.trials_failed;
    stats.replaceChildren(
      el('div', {}, el('span', {}, 'status'), el('strong', {}, statusCell(job.status))),
      el('div', {}, el('span', {}, 'trials'), el('strong', { id: 'trials-done' }, `${done} / ${job.trials_budget}`)),
      el('div', {}, el('span', {}, 'running'), el('strong', {}, job.trials_running)),
      el('div', {}, el('span', {}, 'best feasible accuracy'), el('strong', {}, job.best_val_error == null ? '–' : fmtPct(1 - job.best_val_error))),
      el('div', {}, el('span', {}, 'hypervolume'), el('strong', {}, fmtNum(job.hypervolume, 4))),
      el('div', {}, el('span', {}, 'rejected as infeasible'), el('strong', {}, job.infeasible_rejected)));
    cancel.disabled = ['succeeded', 'failed', 'cancelled'].includes(job.status);
  };
  renderStats();

  // Pareto scatter with choosable axes.
  const axisSelect = (name, value) => el('select', { name, id: `axis-${name}` },
    ...Object.entries(AXES).map(([k, a]) => el('option', { value: k, selected: k === value }, a.label)));
  const xSel = axisSelect('x', 'peak_sram'), ySel = axisSelect('y', 'error');
  const scatterCanvas = el('canvas', { id: 'pareto-chart', role: 'img', 'aria-label': 'Pareto front scatter plot' });
  const hvTrials = el('canvas', { id: 'hv-trials', role: 'img', 'aria-label': 'hypervolume over trials' });
  const hvTime = el('canvas', { id: 'hv-time', role: 'img', 'aria-label': 'hypervolume over time' });
  const table = trialTable(jobId);
  main.replaceChildren(
    el('h1', {}, `${job.name} `, el('span', { class: 'muted' }, job.job_id)),
    el('section', { class: 'card' }, stats, el('p', {}, cancel)),
    el('div', { class: 'grid' },
      el('section', { class: 'card', id: 'pareto' }, el('h2', {}, 'Pareto front'),
        el('div', { class: 'controls' }, el('label', {}, 'x axis', xSel), el('label', {}, 'y axis', ySel),
          el('span', { class: 'muted' }, 'click a point to open the trial')),
        el('div', { class: 'chart' }, scatterCanvas)),
      el('section', { class: 'card' }, el('h2', {}, 'Hypervolume'),
        el('div', { class: 'chart small' }, hvTrials), el('div', { class: 'chart small' }, hvTime))),
    table.section);

  let trials = [], front = new Set();
  const scatter = new Chart(scatterCanvas, {
    type: 'scatter', data: { datasets: [] },
    options: {
      animation: false, maintainAspectRatio: false,
      plugins: { tooltip: { callbacks: { label: (c) => c.raw.label } } },
      onClick: (_, elements) => {
        const raw = elements[0] && scatter.data.datasets[elements[0].datasetIndex].data[elements[0].index];
        if (raw?.trial !== undefined) location.hash = `#/jobs/${encodeURIComponent(jobId)}/trials/${raw.trial}`;
      },
    },
  });
  const hvChart = (canvas, title) => new Chart(canvas, {
    type: 'line', data: { datasets: [{ label: title, data: [], stepped: true, borderColor: '#2457c5', pointRadius: 0 }] },
    options: { animation: false, maintainAspectRatio: false, parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: title } }, y: { title: { display: true, text: 'hypervolume' } } } },
  });
  const hv1 = hvChart(hvTrials, 'trials finished'), hv2 = hvChart(hvTime, 'seconds since submission');
  charts.push(scatter, hv1, hv2);

  const drawScatter = () => {
    const ax = AXES[xSel.value], ay = AXES[ySel.value];
    const point = (t) => ({ x: ax.get(t), y: ay.get(t), trial: t.trial_id,
      label: `trial ${t.trial_id}: error ${fmtPct(t.metrics?.val_error)}, SRAM ${fmtInt(t.costs.peak_sram_bytes)} B, flash ${fmtInt(t.costs.flash_bytes)} B, MACs ${fmtInt(t.costs.macs)}` });
    const done = trials.filter((t) => t.status === 'completed' && ax.get(t) != null && ay.get(t) != null);
    const sets = [
      { label: 'Pareto front', data: done.filter((t) => front.has(t.trial_id)).map(point), backgroundColor: '#d9480f', pointRadius: 6, pointStyle: 'rectRot' },
      { label: 'feasible', data: done.filter((t) => !front.has(t.trial_id) && feasible(t, job.spec)).map(point), backgroundColor: 'rgba(36,87,197,.7)', pointRadius: 4 },
      { label: 'infeasible (outside a bound)', data: done.filter((t) => !front.has(t.trial_id) && !feasible(t, job.spec)).map(point), backgroundColor: 'rgba(120,120,120,.45)', pointStyle: 'crossRot', pointRadius: 5, borderColor: 'rgba(120,120,120,.8)' },
    ];
    // Bounds as lines across the plotted range.
    const xs = done.map(ax.get), ys = done.map(ay.get);
    const bx = job.spec?.bounds?.[ax.bound], by = job.spec?.bounds?.[ay.bound];
    const span = (vals, b) => [Math.min(0, ...vals, b ?? Infinity), Math.max(...vals, b ?? -Infinity)];
    if (bx != null && done.length) { const [lo, hi] = span(ys, by); sets.push({ label: `bound: ${ax.label}`, type: 'line', data: [{ x: bx, y: lo, label: `bound ${ax.fmt(bx)}` }, { x: bx, y: hi, label: `bound ${ax.fmt(bx)}` }], borderColor: '#b3261e', borderDash: [6, 4], pointRadius: 0 }); }
    if (by != null && done.length) { const [lo, hi] = span(xs, bx); sets.push({ label: `bound: ${ay.label}`, type: 'line', data: [{ x: lo, y: by, label: `bound ${ay.fmt(by)}` }, { x: hi, y: by, label: `bound ${ay.fmt(by)}` }], borderColor: '#7a4bc0', borderDash: [6, 4], pointRadius: 0 }); }
    scatter.data.datasets = sets;
    scatter.options.scales = { x: { type: 'linear', title: { display: true, text: ax.label } }, y: { type: 'linear', title: { display: true, text: ay.label } } };
    scatter.update();
  };
  xSel.addEventListener('change', drawScatter);
  ySel.addEventListener('change', drawScatter);

  const reload = async () => {
    const [all, pareto, hv] = await Promise.all([
      api(`${path}/trials?page_size=1000&status=completed`), api(`${path}/pareto`), api(`${path}/hypervolume`)]);
    trials = all.trials;
    front = new Set(pareto.trials.map((t) => t.trial_id));
    drawScatter();
    hv1.data.datasets[0].data = hv.points.map((p) => ({ x: p.trials_finished, y: p.hypervolume }));
    hv2.data.datasets[0].data = hv.points.map((p) => ({ x: (p.unix_ms - job.created_unix_ms) / 1000, y: p.hypervolume }));
    hv1.update(); hv2.update();
    await table.refresh();
  };
  await reload();
  if (!['succeeded', 'failed', 'cancelled'].includes(job.status)) {
    // Live: every event updates the figures; charts and the table reload at
    // most once a second.
    let pending = null;
    const schedule = () => { if (!pending) pending = setTimeout(() => { pending = null; reload().catch(() => {}); }, 1000); };
    streamEvents(`${path}/events`, (kind, data) => {
      job = data.job;
      renderStats();
      schedule();
    });
  }
}

// The sortable, filterable, paged trial table of a job.
function trialTable(jobId) {
  const state = { sort: 'trial_id', order: 'desc', status: '', page: ['0'], at: 0 };
  const tbody = el('tbody');
  const info = el('span', { class: 'muted' });
  const cols = [['trial_id', 'Trial'], [null, 'Status'], ['val_error', 'Val error'], ['peak_sram_bytes', 'Peak SRAM (B)'],
    ['flash_bytes', 'Flash (B)'], ['macs', 'MACs'], ['latency_ms', 'Latency (ms)'], [null, 'Params']];
  const head = el('tr');
  const renderHead = () => head.replaceChildren(...cols.map(([key, label]) => el('th', { class: key && key !== 'trial_id' ? 'num' : '', 'aria-sort': state.sort === key ? (state.order === 'asc' ? 'ascending' : 'descending') : null },
    key ? el('button', { type: 'button', onclick: () => { state.order = state.sort === key && state.order === 'asc' ? 'desc' : 'asc'; state.sort = key; state.page = ['0']; state.at = 0; renderHead(); refresh(); } },
      label + (state.sort === key ? (state.order === 'asc' ? ' ▲' : ' ▼') : '')) : label)));
  renderHead();
  const filter = el('select', { id: 'trial-status', onchange: () => { state.status = filter.value; state.page = ['0']; state.at = 0; refresh(); } },
    ...['', 'completed', 'failed', 'leased', 'pending', 'cancelled'].map((s) => el('option', { value: s }, s || 'any')));
  const prev = el('button', { type: 'button', class: 'secondary', onclick: () => { state.at--; refresh(); } }, 'Previous');
  const next = el('button', { type: 'button', class: 'secondary', onclick: () => { state.at++; refresh(); } }, 'Next');
  let latest = 0;  // a live reload and a click may overlap: only the newest answer is shown
  const refresh = async () => {
    const q = new URLSearchParams({ page_size: 25, sort: state.sort, order: state.order, page_token: state.page[state.at] });
    if (state.status) q.set('status', state.status);
    const mine = ++latest;
    const page = await api(`/jobs/${encodeURIComponent(jobId)}/trials?${q}`);
    if (mine !== latest) return;
    if (page.next_page_token) state.page[state.at + 1] = page.next_page_token;
    prev.disabled = state.at === 0;
    next.disabled = !page.next_page_token;
    info.textContent = `${page.total} trials`;
    tbody.replaceChildren(...page.trials.map((t) => el('tr', { class: 'clickable' },
      el('td', {}, el('a', { href: `#/jobs/${encodeURIComponent(jobId)}/trials/${t.trial_id}` }, `#${t.trial_id}`)),
      el('td', {}, statusCell(t.status)),
      el('td', { class: 'num' }, fmtPct(t.metrics?.val_error)),
      el('td', { class: 'num' }, fmtInt(t.costs.peak_sram_bytes)),
      el('td', { class: 'num' }, fmtInt(t.costs.flash_bytes)),
      el('td', { class: 'num' }, fmtInt(t.costs.macs)),
      el('td', { class: 'num' }, fmtNum(t.costs.latency_ms, 2)),
      el('td', { class: 'num' }, fmtInt(t.costs.params)))));
  };
  const section = el('section', { class: 'card' }, el('h2', {}, 'Trials'),
    el('div', { class: 'controls' }, el('label', {}, 'status', filter), info, prev, next),
    el('div', { class: 'scroll' }, el('table', { id: 'trials-table' }, el('thead', {}, head), tbody)));
  return { section, refresh };
}

// Server-sent events over fetch (EventSource cannot send the bearer token).
async function streamEvents(path, onEvent) {
  const controller = new AbortController();
  live = controller;
  try {
    const response = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token()}` }, signal: controller.signal });
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let kind = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) kind = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) onEvent(kind, JSON.parse(data));
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') console.warn('event stream ended:', e.message);
  }
}

// ------------------------------------------------------------ trial view

async function trialView(jobId, trialId) {
  const base = `/jobs/${encodeURIComponent(jobId)}/trials/${encodeURIComponent(trialId)}`;
  const [job, t] = await Promise.all([api(`/jobs/${encodeURIComponent(jobId)}`), api(base)]);
  crumbs.replaceChildren(el('a', { href: '#/' }, 'Jobs'), ' / ', el('a', { href: `#/jobs/${encodeURIComponent(jobId)}` }, job.name), ` / trial ${t.trial_id}`);
  const report = t.cost_report;
  const pex = t.partial_execution;
  const download = el('button', { type: 'button', id: 'download-export', onclick: async () => {
    const response = await fetch(`/api/v1${base}/export`, { headers: { Authorization: `Bearer ${token()}` } });
    const url = URL.createObjectURL(await response.blob());
    const a = el('a', { href: url, download: `${jobId}-trial-${t.trial_id}.json` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } }, 'Download export (JSON)');
  const stat = (label, value) => el('div', {}, el('span', {}, label), el('strong', {}, value));
  const layers = el('table', { id: 'layers-table' },
    el('thead', {}, el('tr', {}, ...['#', 'Operator', 'Description', 'Output shape (H×W×C)', 'Params', 'MACs', 'Flash (B)', 'Live SRAM, best order (B)']
      .map((h, i) => el('th', { class: i >= 4 ? 'num' : '' }, h)))),
    el('tbody', {}, ...report.ops.map((op) => el('tr', {},
      el('td', {}, op.index), el('td', {}, op.op), el('td', {}, op.description), el('td', {}, op.output_shape.join('×')),
      el('td', { class: 'num' }, fmtInt(op.params)), el('td', { class: 'num' }, fmtInt(op.macs)),
      el('td', { class: 'num' }, fmtInt(op.flash_bytes)), el('td', { class: 'num' }, fmtInt(op.live_bytes_best_order))))));
  const timeline = el('canvas', { id: 'sram-timeline', role: 'img', 'aria-label': 'SRAM live bytes at each step' });
  main.replaceChildren(
    el('h1', {}, `Trial ${t.trial_id} `, el('span', { class: 'muted' }, `${job.name} · ${t.accounting} accounting · input ${t.input.shape.join('×')}`)),
    el('section', { class: 'card' }, el('div', { class: 'stats' },
      stat('status', statusCell(t.status)), stat('val error', fmtPct(t.metrics?.val_error)), stat('test error', fmtPct(t.metrics?.test_error)),
      stat('peak SRAM, best order', `${fmtInt(report.peak_sram_bytes)} B`), stat('peak SRAM, build order', `${fmtInt(report.build_order_peak_sram_bytes)} B`),
      stat('peak SRAM, partial execution', pex ? `${fmtInt(pex.peak_sram_bytes)} B` : '–'),
      stat('flash', `${fmtInt(report.flash_bytes)} B`), stat('MACs', fmtInt(report.macs)), stat('params', fmtInt(report.params)),
      stat('latency', t.costs.latency_ms == null ? '–' : `${fmtNum(t.costs.latency_ms, 2)} ms`)),
    el('p', {}, download)),
    el('section', { class: 'card', id: 'timeline' }, el('h2', {}, 'SRAM timeline: bytes live at each step'), el('div', { class: 'chart' }, timeline)),
    el('section', { class: 'card scroll' }, el('h2', {}, 'Layers'), layers));

  const series = (values, label, color, dash) => ({ label, data: values.map((v, i) => ({ x: i, y: v })), borderColor: color, backgroundColor: color, stepped: 'middle', pointRadius: 2, borderDash: dash });
  const sets = [series(report.timeline_build_order, 'build order', '#7a869a', [4, 3]), series(report.timeline_best_order, 'best order', '#2457c5')];
  if (pex) sets.push(series(pex.steps.map((s) => s.live_bytes), 'partial execution', '#1b7f3b'));
  const bound = t.limits?.constraints?.peak_sram_bytes ?? t.limits?.bounds?.peak_sram_bytes;
  // A bound far above the peak would flatten the timeline: then the axis
  // stops above the peak and the legend says where the bound is.
  const peak = Math.max(report.build_order_peak_sram_bytes, report.peak_sram_bytes);
  const boundOff = bound != null && bound > 3 * peak;
  if (bound != null) {
    const steps = Math.max(...sets.map((s) => s.data.length)) - 1;
    sets.push({ label: `SRAM bound ${fmtInt(bound)} B${boundOff ? ' (above the chart)' : ''}`, data: [{ x: 0, y: bound }, { x: steps, y: bound }], borderColor: '#b3261e', borderDash: [6, 4], pointRadius: 0 });
  }
  charts.push(new Chart(timeline, { type: 'line', data: { datasets: sets },
    options: { animation: false, maintainAspectRatio: false, parsing: false,
      scales: { x: { type: 'linear', ticks: { stepSize: 1, precision: 0 }, title: { display: true, text: 'step' } },
        y: { beginAtZero: true, max: boundOff ? Math.ceil(peak * 1.25) : undefined, title: { display: true, text: 'live bytes' } } } } }));
}

route();
