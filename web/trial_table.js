// The sortable, filterable, paged table of a job's trials (server-side sort
// and paging). Float and int8 errors stand side by side; an error the
// worker did not measure (null or absent) shows as an em dash. The rung
// column says at which fidelity a trial trained ("r0", "r1", ... or
// "final N" for final retraining), a promoted trial links to the trial it
// continues (fidelity.js).
import { api } from './api.js';
import { el, fmtInt, fmtNum, fmtPct, statusCell } from './dom.js';
import { promotedMark, rowId, rungLabel, trialHref } from './fidelity.js';

// [sort key for the API or null, header, cell of a trial, numeric?]
const COLUMNS = [
  ['trial_id', 'Trial', null, false],
  [null, 'Status', (t) => statusCell(t.status), false],
  [null, 'Rung', (t) => rungLabel(t), false],
  ['val_error', 'Val error', (t) => fmtPct(t.metrics?.val_error), true],
  [null, 'Int8 val error', (t) => fmtPct(t.metrics?.int8_val_error), true],
  [null, 'Test error', (t) => fmtPct(t.metrics?.test_error), true],
  [null, 'Int8 test error', (t) => fmtPct(t.metrics?.int8_test_error), true],
  ['peak_sram_bytes', 'Peak SRAM (B)', (t) => fmtInt(t.costs.peak_sram_bytes), true],
  ['flash_bytes', 'Flash, weights (B)', (t) => fmtInt(t.costs.flash_bytes), true],
  ['macs', 'MACs', (t) => fmtInt(t.costs.macs), true],
  ['latency_ms', 'Latency (ms)', (t) => fmtNum(t.costs.latency_ms, 2), true],
  [null, 'Params', (t) => fmtInt(t.costs.params), true],
];

// Returns { section, refresh }: refresh() reloads the shown page.
export function trialTable(jobId) {
  const state = { sort: 'trial_id', order: 'desc', status: '', pages: [''], at: 0 };
  const tbody = el('tbody');
  const info = el('span', { class: 'muted' });
  const head = el('tr');
  const restart = () => { state.pages = ['']; state.at = 0; };
  const sortBy = (key) => {
    state.order = state.sort === key && state.order === 'asc' ? 'desc' : 'asc';
    state.sort = key;
    restart();
    renderHead();
    refresh();
  };
  const renderHead = () => head.replaceChildren(...COLUMNS.map(([key, label, , numeric]) => {
    const sorted = state.sort === key;
    return el('th', { class: numeric ? 'num' : '', 'aria-sort': sorted ? (state.order === 'asc' ? 'ascending' : 'descending') : null },
      key ? el('button', { type: 'button', onclick: () => sortBy(key) }, label + (sorted ? (state.order === 'asc' ? ' ▲' : ' ▼') : '')) : label);
  }));
  renderHead();
  const filter = el('select', { id: 'trial-status', onchange: () => { state.status = filter.value; restart(); refresh(); } },
    ...['', 'completed', 'failed', 'leased', 'pending', 'cancelled'].map((s) => el('option', { value: s }, s || 'any')));
  const prev = el('button', { type: 'button', class: 'secondary', onclick: () => { state.at--; refresh(); } }, 'Previous');
  const next = el('button', { type: 'button', class: 'secondary', onclick: () => { state.at++; refresh(); } }, 'Next');
  const row = (t) => el('tr', { class: 'clickable', id: rowId(t.trial_id) },
    el('td', {}, el('a', { href: trialHref(jobId, t.trial_id) }, `#${t.trial_id}`), promotedMark(jobId, t)),
    ...COLUMNS.slice(1).map(([, , cell, numeric]) => el('td', { class: numeric ? 'num' : '' }, cell(t))));
  let latest = 0;  // a live reload and a click may overlap: only the newest answer is shown
  const refresh = async () => {
    const q = new URLSearchParams({ page_size: 25, sort: state.sort, order: state.order, page_token: state.pages[state.at] });
    if (state.status) q.set('status', state.status);
    const mine = ++latest;
    const page = await api(`/jobs/${encodeURIComponent(jobId)}/trials?${q}`);
    if (mine !== latest) return;
    if (page.next_page_token) state.pages[state.at + 1] = page.next_page_token;
    prev.disabled = state.at === 0;
    next.disabled = !page.next_page_token;
    info.textContent = `${fmtInt(page.total)} trials`;
    tbody.replaceChildren(...page.trials.map(row));
  };
  const section = el('section', { class: 'card' }, el('h2', {}, 'Trials'),
    el('div', { class: 'controls' }, el('label', {}, 'status', filter), info, prev, next),
    el('div', { class: 'scroll' }, el('table', { id: 'trials-table' }, el('thead', {}, head), tbody)));
  return { section, refresh };
}
