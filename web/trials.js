// What the dashboard knows about a job's trials: the objectives its plots can
// show, feasibility as the server defines it, and loading every completed
// trial for the scatter plot with a bounded number of requests.
import { api } from './api.js';
import { fmtInt, fmtNum, fmtPct } from './dom.js';

// The costs a trial's metrics describe: the pruned network's when the trial
// was pruned (latency is not re-estimated for it), as the coordinator's
// MeasuredCosts does for the Pareto front and the constraints.
export function measuredCosts(trial) {
  if (!trial.pruned_costs) return trial.costs;
  return { ...trial.pruned_costs, latency_ms: trial.costs.latency_ms };
}

// The objectives the Pareto axes may show: label, how to read it off a
// trial, and the key of its limit in the job spec's bounds and constraints.
export const AXES = {
  // The server's objective error (int8 when the job measures it): the one
  // the front is built on and "best" reports.
  error: { label: 'validation error (objective)', get: (t) => t.objective_error ?? t.metrics?.val_error, limit: 'val_error', fmt: fmtPct },
  peak_sram: { label: 'peak SRAM (bytes)', get: (t) => measuredCosts(t).peak_sram_bytes, limit: 'peak_sram_bytes', fmt: fmtInt },
  flash: { label: 'flash: weights and biases (bytes)', get: (t) => measuredCosts(t).flash_bytes, limit: 'flash_bytes', fmt: fmtInt },
  macs: { label: 'MACs', get: (t) => measuredCosts(t).macs, limit: 'macs', fmt: fmtInt },
  latency: { label: 'latency (ms)', get: (t) => measuredCosts(t).latency_ms, limit: 'latency_ms', fmt: (v) => fmtNum(v, 2) },
};

// Feasible as the server means it (search::MeetsConstraints over the
// measured costs): a completed trial within every hard constraint of the job
// spec (spec.constraints: peak SRAM, flash, MACs, latency; a latency
// constraint with no latency estimate is not met). The soft bounds
// (spec.bounds) only set the hypervolume's reference point and never make a
// trial infeasible. Error cannot be constrained (it is known after training).
export function feasible(trial, spec) {
  if (trial.status !== 'completed' || !trial.metrics) return false;
  const c = spec?.constraints || {};
  const costs = measuredCosts(trial);
  for (const key of ['peak_sram_bytes', 'flash_bytes', 'macs']) {
    if (c[key] != null && costs[key] > c[key]) return false;
  }
  if (c.latency_ms != null && (costs.latency_ms == null || costs.latency_ms > c.latency_ms)) return false;
  return true;
}

// Within every soft bound (inside the hypervolume's reference box).
export function withinBounds(trial, spec) {
  const b = spec?.bounds || {};
  return Object.values(AXES).every((a) => b[a.limit] == null || a.get(trial) == null || a.get(trial) <= b[a.limit]);
}

// How the scatter plot loads trials: pages of the API's largest size, at most
// maxPages requests per load. A job with up to pageSize * maxPages completed
// trials (50,000) is loaded whole; a larger one (budgets go to a million) as
// maxPages pages spread evenly over the trial-id order, so trials from early,
// middle and late in the search all appear. Why a bounded sample and not every
// page: each page request makes the server sort every trial of the job, and a
// browser cannot usefully draw a million points; the Pareto front itself is
// always drawn in full (GET .../pareto), so only dominated trials are ever
// left out.
// A sampled load also stops after sampleBudgetMs (on a million trials each
// page request takes the server seconds): its pages are visited in an order
// that refines evenly (ends, middle, quarters, ...), so wherever it stops
// the sample is spread over the whole search.
export const paging = { pageSize: 1000, maxPages: 50, sampleBudgetMs: 30_000 };

// 0, 1/2, 1/4, 3/4, 1/8, ...: the van der Corput sequence's first n terms
// scaled to 0..n-1 windows, each window once, ends first.
function refiningOrder(n) {
  const order = n > 1 ? [0, n - 1] : [0];
  const seen = new Set(order);
  for (let denominator = 2; seen.size < n; denominator *= 2) {
    for (let k = 1; k < denominator; k += 2) {
      const i = Math.round((k / denominator) * (n - 1));
      if (!seen.has(i)) { seen.add(i); order.push(i); }
    }
  }
  return order;
}

// Completed trials of the job at jobPath ('/jobs/ID'). Resolves to
// { trials, total, sampled, pages }: total is the count of completed trials
// the server reported, sampled is true when only a sample of them was
// loaded, pages the number of page requests made.
// onPage(trials, progress), if given, receives each page's trials as it
// arrives (progress = { pages, of, total, sampled }), so a large job draws
// while it loads; `signal` aborts the remaining requests (AbortError).
// A full load follows next_page_token; a sampled one asks for page tokens at
// chosen offsets (the API's token is the offset into the sorted list,
// server/http/http_api.cc ListTrials).
export async function loadCompletedTrials(jobPath, {
  pageSize = paging.pageSize, maxPages = paging.maxPages, sampleBudgetMs = paging.sampleBudgetMs, onPage, signal } = {}) {
  const start = performance.now();
  const page = (pageToken) => api(`${jobPath}/trials?${new URLSearchParams({
    status: 'completed', sort: 'trial_id', order: 'asc', page_size: pageSize, page_token: pageToken })}`, { signal });
  const first = await page('');
  const total = first.total;
  const byId = new Map();
  const pages = Math.ceil(total / pageSize);
  let done = 0;
  const got = (trials) => {
    for (const t of trials) byId.set(t.trial_id, t);
    ++done;
    if (onPage) onPage(trials, { pages: done, of: Math.min(pages, maxPages), total, sampled: pages > maxPages });
  };
  got(first.trials);
  if (pages <= maxPages) {
    // Trials finishing meanwhile may shift a page: the map drops duplicates,
    // and the live event stream brings any trial a shift skipped.
    for (let token = first.next_page_token, n = 1; token && n < maxPages; ++n) {
      const next = await page(token);
      got(next.trials);
      token = next.next_page_token;
    }
    return { trials: [...byId.values()], total, sampled: false, pages: done };
  }
  // maxPages windows of pageSize trials, the first at offset 0 (loaded) and
  // the last ending at the last trial, evenly spaced between.
  const offsets = refiningOrder(maxPages).slice(1).map((i) => Math.round((i * (total - pageSize)) / (maxPages - 1)));
  const PARALLEL = 3;
  for (let i = 0; i < offsets.length && performance.now() - start < sampleBudgetMs; i += PARALLEL) {
    const answers = await Promise.all(offsets.slice(i, i + PARALLEL).map((o) => page(String(o))));
    for (const a of answers) got(a.trials);
  }
  return { trials: [...byId.values()], total, sampled: true, pages: done };
}
