// One job: its figures (live over server-sent events), the final front when
// the job has been finalised (final_front.js, shown first), the Pareto
// scatter of every completed trial (trials.js says how a very large job is
// sampled; job_scatter.js how trials are classed), hypervolume over trials
// and over time, and the trial table.
import { api, streamEvents } from './api.js';
import { scatterChart, stepChart } from './charts.js';
import { crumbs, el, fmtInt, fmtNum, fmtPct, main, onLeave, stat, statusCell } from './dom.js';
import { rungLabel } from './fidelity.js';
import { bestFinal, finalFrontCard } from './final_front.js';
import { finalizeControl } from './finalize.js';
import { scatterDatasets } from './job_scatter.js';
import { trialTable } from './trial_table.js';
import { AXES, loadCompletedTrials, measuredCosts, paging } from './trials.js';

const FINAL = ['succeeded', 'failed', 'cancelled'];

// The figures; the headline (first) is the best final test accuracy once a
// final front exists, else the search's best validation accuracy.
// setFinal(bestFinal(pareto)) updates the headline; render(job) the rest.
function statsPanel(path, job, { onFinalize }) {
  const stats = el('div', { class: 'stats', id: 'job-stats' });
  // Cancelling stops the search without retraining anything; "Stop and
  // finalize" (the finalize form) is the graceful stop, so cancel asks first.
  const cancel = el('button', { type: 'button', class: 'secondary', onclick: async () => {
    if (!window.confirm('Cancel this job? Its search stops and nothing is retrained. To stop and keep the best networks, use "Stop and finalize". A cancelled job can still be finalized later.')) return;
    panel.render(await api(`${path}/cancel`, { method: 'POST' }));
  } }, 'Cancel job');
  const finalize = finalizeControl(path, (j) => { panel.render(j); onFinalize(j); });
  let final = null, current = job;
  const headline = (j) => {
    if (final) {
      return stat(`final test accuracy${final.trial.metrics?.int8_test_error != null ? ' (int8)' : ''}, round ${final.round}`,
        el('span', {}, fmtPct(final.accuracy), el('span', { class: 'muted' }, ` trial #${final.trial.trial_id}`)), 'headline-accuracy');
    }
    return stat('best search validation accuracy (feasible)', fmtPct(j.best_val_error == null ? null : 1 - j.best_val_error), 'headline-accuracy');
  };
  const panel = {
    node: el('section', { class: 'card' }, stats, el('p', {}, cancel), finalize.node),
    badge: el('span', { class: 'badge', id: 'job-finalizing', hidden: true }, 'finalizing'),
    render(j) {
      current = j;
      const done = j.trials_completed + j.trials_failed;
      const h = headline(j);
      h.classList.add('headline');
      stats.replaceChildren(h,
        stat('status', el('span', {}, statusCell(j.status), j.finalizing ? ' · finalizing' : '')),
        stat('search proposals (the budget)', `${j.trials_proposed} / ${j.trials_budget}`, 'job-proposals'),
        el('div', {}, el('span', {}, 'trials finished (with promotions and retraining)'), el('strong', { id: 'trials-done' }, `${done}`)),
        stat('running', j.trials_running),
        j.final_round > 0 ? stat('final retraining', `round ${j.final_round} · ${j.final_epochs > 0 ? `${j.final_epochs} epoch${j.final_epochs === 1 ? '' : 's'}` : 'the job\'s recipe'}`, 'job-final-round') : '',
        final ? stat('best search validation accuracy (feasible)', fmtPct(j.best_val_error == null ? null : 1 - j.best_val_error)) : '',
        // Its reference point is the job's bounds: 0 until a feasible trial
        // beats every bound, which reads as a broken search unless said.
        stat('hypervolume', j.hypervolume === 0 && j.trials_completed > 0
          ? `${fmtNum(0, 4)} (no feasible trial within every bound yet)` : fmtNum(j.hypervolume, 4), 'job-hypervolume'),
        stat('rejected as infeasible', fmtInt(j.infeasible_rejected)));
      panel.badge.hidden = !j.finalizing;
      cancel.disabled = FINAL.includes(j.status);
      finalize.render(j);
    },
    setFinal(best) { final = best; panel.render(current); },
  };
  panel.render(job);
  return panel;
}

const trialLabel = (t) => {
  const c = measuredCosts(t);
  return `trial ${t.trial_id} (${rungLabel(t)}): error ${fmtPct(t.metrics?.val_error)}, SRAM ${fmtInt(c.peak_sram_bytes)} B, flash ${fmtInt(c.flash_bytes)} B, MACs ${fmtInt(c.macs)}`;
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
  let live = false;  // set by goLive below
  const stats = statsPanel(path, job, { onFinalize: (j) => { job = j; goLive(); } });
  const finalCard = finalFrontCard(jobId);

  const axisSelect = (name, value) => el('select', { name, id: `axis-${name}` },
    ...Object.entries(AXES).map(([k, a]) => el('option', { value: k, selected: k === value }, a.label)));
  const xSel = axisSelect('x', 'peak_sram'), ySel = axisSelect('y', 'error');
  const scatterCanvas = el('canvas', { id: 'pareto-chart', role: 'img', 'aria-label': 'Pareto front scatter plot' });
  const note = el('p', { class: 'muted', id: 'pareto-note' });
  const hvTrials = el('canvas', { id: 'hv-trials', role: 'img', 'aria-label': 'hypervolume over trials' });
  const hvTime = el('canvas', { id: 'hv-time', role: 'img', 'aria-label': 'hypervolume over time' });
  const table = trialTable(jobId);
  main.replaceChildren(
    el('h1', {}, `${job.name} `, el('span', { class: 'muted' }, job.job_id), ' ', stats.badge),
    stats.node,
    finalCard.section,
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
  let finalFront = new Map(); // the latest final round's front
  let loaded = { total: 0, sampled: false, pages: 0, since: 0 };
  const scatter = scatterChart(scatterCanvas, {
    label: (p) => (p.t ? trialLabel(p.t) : p.label),
    onPick: (p) => { if (p?.t) location.hash = `#/jobs/${encodeURIComponent(jobId)}/trials/${p.t.trial_id}`; },
  });
  const hv1 = stepChart(hvTrials, { label: 'trials finished', xTitle: 'trials finished', yTitle: 'hypervolume' });
  const hv2 = stepChart(hvTime, { label: 'seconds since submission', xTitle: 'seconds since submission', yTitle: 'hypervolume' });

  const drawScatter = () => {
    const ax = AXES[xSel.value], ay = AXES[ySel.value];
    const sets = scatterDatasets({ trials, front, finalFront, spec: job.spec, ax, ay });
    const all = sets.flatMap((s) => s.data);
    scatter.show([...sets, ...limitLines(job.spec, ax, ay, all.map((p) => p.x), all.map((p) => p.y))], ax.label, ay.label);
    const count = trials.size + [...front.keys(), ...finalFront.keys()].filter((id) => !trials.has(id)).length;
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
    finalFront = new Map((pareto.final || []).map((t) => [t.trial_id, t]));
    finalCard.render(pareto);
    stats.setFinal(bestFinal(pareto));
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

  // Live while the job runs or finalises: the stream is opened before the
  // first load, so a trial finishing meanwhile comes with its event, and the
  // job's end reloads every trial. Every event updates the figures and
  // brings its trial; charts and the table reload at most once a second.
  // A finalised job that had ended goes live again (goLive after Finalize).
  function goLive() {
    if (live) return;
    live = true;
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
    // The stream of a job that had ended may close at once: then the job is
    // asked for again, every 2 s while it finalises.
    let poll = null;
    stream.done.then(() => {
      live = false;
      if (leave.signal.aborted) return;
      const again = async () => {
        poll = null;
        job = await api(path, { signal: leave.signal });
        stats.render(job);
        await reload(true);
        if (job.finalizing && !leave.signal.aborted) poll = setTimeout(() => again().catch(() => {}), 2000);
      };
      if (job.finalizing) poll = setTimeout(() => again().catch(() => {}), 2000);
    });
    onLeave(() => { stream.controller.abort(); clearTimeout(pending); clearTimeout(poll); });
  }
  if (!FINAL.includes(job.status) || job.finalizing) goLive();
  await reload(true);
}
