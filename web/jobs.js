// The jobs view: the jobs a page at a time, newest first, with their
// progress and figures (polled), and the form that submits a new one
// (submit_form.js).
import { api } from './api.js';
import { crumbs, el, fmtInt, fmtNum, fmtPct, main, onLeave, statusCell } from './dom.js';
import { submitForm } from './submit_form.js';

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
  const form = await submitForm();
  main.replaceChildren(el('h1', {}, 'Jobs'),
    el('section', { class: 'card' }, el('div', { class: 'controls' }, info, newer, older), el('div', { class: 'scroll' }, table)),
    form);
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
