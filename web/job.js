// One job: its figures (live over server-sent events), the Pareto scatter of
// every completed trial (trials.js says how a very large job is sampled),
// hypervolume over trials and over time, and the trial table.
import { api, streamEvents } from './api.js';
import { scatterChart, stepChart } from './charts.js';
import { crumbs, el, fmtInt, fmtNum, fmtPct, main, onLeave, stat, statusCell } from './dom.js';
import { trialTable } from './trial_table.js';
import { AXES, feasible, loadCompletedTrials, measuredCosts, paging, withinBounds } from './trials.js';

const FINAL = ['succeeded', 'failed', 'cancelled'];

function statsPanel(path, job) {
  const stats = el('div', { class: 'stats', id: 'job-stats' });
  const cancel = el('button', { type: 'button', class: 'secondary', onclick: async () => { panel.render(await api(`${path}/cancel`, { method: 'POST' })); } }, 'Cancel job');
  const panel = {
    node: el('section', { class: 'card' }, stats, el('p', {}, cancel)),
    render(j) {
      const done = j.trials_completed + j.trials_failed;
      stats.replaceChildren(
        stat('status', statusCell(j.status)),
        el('div', {}, el('span', {}, 'trials'), el('strong', { id: 'trials-done' }, `${done} / ${j.trials_budget}`)),
        stat('running', j.trials_running),
        stat('best feasible accuracy', fmtPct(j.best_val_error == null ? null : 1 - j.best_val_error)),
        stat('hypervolume', fmtNum(j.hypervolume, 4)),
        stat('rejected as infeasible', fmtInt(j.infeasible_rejected)));
      cancel.disabled = FINAL.includes(j.status);
    },
  };
  panel.render(job);
  return panel;
}

const trialLabel = (t) => {
  const c = measuredCosts(t);
  return `trial ${t.trial_id}: error ${fmtPct(t.metrics?.val_error)}, SRAM ${fmtInt(c.peak_sram_bytes)} B, flash ${fmtInt(c.flash_bytes)} B, MACs ${fmtInt(c.macs)}`;
};

// Vertical and horizontal lines at the chosen axes' limits, across the
// plotted range: hard constraints solid, soft bounds dashed.
function limitLines(spec, ax, ay, xs, ys) {
  const span = (values, limit) => [Math.min(...values, limit), Math.max(...values, limit)];
  const lines = [];
  const add = (kind, a, value, vertical, color, dash) => {
    if (value == null || !xs.length) return;
    const text = `${kind} ${a.fmt(value)}`;
    const [lo, hi] = vertical ? span(ys, -Infinity) : span(xs, -Infinity);
    const ends = vertical ? [{ x: value, y: lo }, { x: value, y: hi }] : [{ x: lo, y: value }, { x: hi, y: value }];
    lines.push({ label: `${kind}: ${a.label}`, type: 'line', data: ends.map((p) => ({ ...p, label: text })),
      borderColor: color, borderDash: dash, pointRadius: 0 });
  };
  add('constraint', ax, spec?.constraints?.[ax.limit], true, '#b3261e', []);
  add('constraint', ay, spec?.constraints?.[ay.limit], false, '#b3261e', []);
  add('bound', ax, spec?.bounds?.[ax.limit], true, '#7a4bc0', [6, 4]);
  add('bound', ay, spec?.bounds?.[ay.limit], false, '#7a4bc0', [6, 4]);
  return lines;
}

export async function jobView(jobId) {
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  let job = await api(path);
  crumbs.replaceChildren(el('a', { href: '#/' }, 'Jobs'), ` / ${job.name}`);
  const stats = statsPanel(path, job);

  const axisSelect = (name, value) => el('select', { name, id: `axis-${name}` },
    ...Object.entries(AXES).map(([k, a]) => el('option', { value: k, selected: k === value }, a.label)));
  const xSel = axisSelect('x', 'peak_sram'), ySel = axisSelect('y', 'error');
  const scatterCanvas = el('canvas', { id: 'pareto-chart', role: 'img', 'aria-label': 'Pareto front scatter plot' });
  const note = el('p', { class: 'muted', id: 'pareto-note' });
  const hvTrials = el('canvas', { id: 'hv-trials', role: 'img', 'aria-label': 'hypervolume over trials' });
  const hvTime = el('canvas', { id: 'hv-time', role: 'img', 'aria-label': 'hypervolume over time' });
  const table = trialTable(jobId);
  main.replaceChildren(
    el('h1', {}, `${job.name} `, el('span', { class: 'muted' }, job.job_id)),
    stats.node,
    el('div', { class: 'grid' },
      el('section', { class: 'card', id: 'pareto' }, el('h2', {}, 'Pareto front'),
        el('div', { class: 'controls' }, el('label', {}, 'x axis', xSel), el('label', {}, 'y axis', ySel),
          el('span', { class: 'muted' }, 'click a point to open the trial')),
        el('div', { class: 'chart' }, scatterCanvas), note),
      el('section', { class: 'card' }, el('h2', {}, 'Hypervolume'),
        el('div', { class: 'chart small' }, hvTrials), el('div', { class: 'chart small' }, hvTime))),
    table.section);

  const trials = new Map();  // completed trials loaded so far, by id
  let front = new Map();     // the server's Pareto front, always complete
  let loaded = { total: 0, sampled: false, pages: 0, since: 0 };
  const scatter = scatterChart(scatterCanvas, {
    label: (p) => (p.t ? trialLabel(p.t) : p.label),
    onPick: (p) => { if (p?.t) location.hash = `#/jobs/${encodeURIComponent(jobId)}/trials/${p.t.trial_id}`; },
  });
  const hv1 = stepChart(hvTrials, { label: 'trials finished', xTitle: 'trials finished', yTitle: 'hypervolume' });
  const hv2 = stepChart(hvTime, { label: 'seconds since submission', xTitle: 'seconds since submission', yTitle: 'hypervolume' });

  const drawScatter = () => {
    const ax = AXES[xSel.value], ay = AXES[ySel.value];
    const point = (t) => ({ x: ax.get(t), y: ay.get(t), t });
    const plotted = (t) => ax.get(t) != null && ay.get(t) != null;
    const rest = [...trials.values()].filter((t) => !front.has(t.trial_id) && plotted(t));
    const good = rest.filter((t) => feasible(t, job.spec));
    const sets = [
      { label: 'Pareto front', data: [...front.values()].filter(plotted).map(point), backgroundColor: '#d9480f', pointRadius: 6, pointStyle: 'rectRot' },
      { label: 'feasible', data: good.filter((t) => withinBounds(t, job.spec)).map(point), backgroundColor: 'rgba(36,87,197,.7)', pointRadius: 4 },
      { label: 'feasible, beyond a soft bound', data: good.filter((t) => !withinBounds(t, job.spec)).map(point), backgroundColor: 'rgba(36,87,197,.25)', borderColor: 'rgba(36,87,197,.6)', pointRadius: 4 },
      { label: 'infeasible (beyond a hard constraint)', data: rest.filter((t) => !feasible(t, job.spec)).map(point), backgroundColor: 'rgba(120,120,120,.45)', pointStyle: 'crossRot', pointRadius: 5, borderColor: 'rgba(120,120,120,.8)' },
    ];
    const all = sets.flatMap((s) => s.data);
    scatter.show([...sets, ...limitLines(job.spec, ax, ay, all.map((p) => p.x), all.map((p) => p.y))], ax.label, ay.label);
    const count = trials.size + [...front.keys()].filter((id) => !trials.has(id)).length;
    note.textContent = loading ? `Loading completed trials: page ${loading.pages} of ${loading.of}…`
      : loaded.sampled
      ? `A sample: ${fmtInt(count)} of ${fmtInt(loaded.total)} completed trials (${loaded.pages} pages of ${fmtInt(paging.pageSize)} spread evenly by trial id${loaded.since ? `, and the ${fmtInt(loaded.since)} finished since` : ''}), and the whole Pareto front.`
      : `All ${fmtInt(count)} completed trials.`;
  };
  xSel.addEventListener('change', drawScatter);
  ySel.addEventListener('change', drawScatter);

  // withTrials: page through the trials again (first load, job done),
  // drawing as pages arrive, but spending at most a fifth of the time on
  // drawing (tens of thousands of points take a while); otherwise the live
  // events have brought the new ones. Leaving the view stops the loading.
  const leave = new AbortController();
  onLeave(() => leave.abort());
  let loading = null, drawnAt = 0, drawMs = 0;
  const onPage = (page, progress) => {
    for (const t of page) trials.set(t.trial_id, t);
    loading = progress;
    if (performance.now() - drawnAt < Math.max(1000, 4 * drawMs)) return;
    const start = performance.now();
    drawScatter();
    drawnAt = performance.now();
    drawMs = drawnAt - start;
  };
  const reload = async (withTrials) => {
    const [pareto, hv] = await Promise.all([api(`${path}/pareto`, { signal: leave.signal }), api(`${path}/hypervolume`, { signal: leave.signal })]);
    front = new Map(pareto.trials.map((t) => [t.trial_id, t]));
    if (withTrials) {
      const all = await loadCompletedTrials(path, { onPage, signal: leave.signal });
      loading = null;
      loaded = { total: all.total, sampled: all.sampled, pages: all.pages, since: 0 };
    }
    if (!loading) drawScatter();  // while a load runs, onPage draws
    hv1.setPoints(hv.points.map((p) => ({ x: p.trials_finished, y: p.hypervolume })));
    hv2.setPoints(hv.points.map((p) => ({ x: (p.unix_ms - job.created_unix_ms) / 1000, y: p.hypervolume })));
    await table.refresh();
  };

  if (!FINAL.includes(job.status)) {
    // Live: the stream is opened before the first load, so a trial finishing
    // meanwhile comes with its event, and the job's end reloads every trial.
    // Every event updates the figures and brings its trial; charts and the
    // table reload at most once a second.
    let pending = null;
    const schedule = (withTrials) => {
      if (withTrials) { clearTimeout(pending); pending = null; reload(true).catch(() => {}); return; }
      if (!pending) pending = setTimeout(() => { pending = null; reload(false).catch(() => {}); }, 1000);
    };
    const stream = streamEvents(`${path}/events`, (kind, data) => {
      job = data.job;
      stats.render(job);
      const t = data.trial;
      if (t && t.status === 'completed' && !trials.has(t.trial_id)) {
        trials.set(t.trial_id, t);
        if (loaded.sampled) { loaded.total += 1; loaded.since += 1; }
      }
      schedule(kind === 'job_done');
    });
    onLeave(() => { stream.controller.abort(); clearTimeout(pending); });
  }
  await reload(true);
}
