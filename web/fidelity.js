// Multi-fidelity search and final retraining as the dashboard shows them:
// a trial's rung ("r0", "r1", ...) or final round ("final 2"), the trial it
// was promoted from, its final test accuracy, and the colours of the rungs.
// Servers from before multi-fidelity leave these fields out: an absent field
// reads as 0 (rung, promoted_from, final_round) or null (accuracy), so every
// trial of such a job is a search trial at rung 0.
import { el } from './dom.js';

const count = (v) => (Number.isInteger(v) && v > 0 ? v : 0);
export const rungOf = (t) => count(t?.rung);
export const promotedFrom = (t) => count(t?.promoted_from);
export const finalRoundOf = (t) => count(t?.final_round);
export const isFinal = (t) => finalRoundOf(t) > 0;

// "r0", "r1", ... for search trials; "final N" for round N's retraining.
export const rungLabel = (t) => (isFinal(t) ? `final ${finalRoundOf(t)}` : `r${rungOf(t)}`);

// Whether the trial's test figure is the int8 model's (it was quantised).
export const int8Tested = (t) => t?.metrics?.int8_test_error != null;

// 1 - int8 test error when quantised, else 1 - float test error; null when
// the trial measured none. The server's "final_test_accuracy" when it sends
// one, computed the same way (server/store/records.h FinalTestAccuracy) when not.
export function finalTestAccuracy(t) {
  if (t && 'final_test_accuracy' in t) return t.final_test_accuracy ?? null;
  const m = t?.metrics;
  if (!m) return null;
  if (m.int8_test_error != null) return 1 - m.int8_test_error;
  return m.test_error != null ? 1 - m.test_error : null;
}

export const trialHref = (jobId, trialId) => `#/jobs/${encodeURIComponent(jobId)}/trials/${trialId}`;
export const rowId = (trialId) => `trial-row-${trialId}`;

// "↑ from #12" for a promoted trial, else ''. The link opens trial 12's page;
// when its row is in the table on screen it scrolls there and marks it.
export function promotedMark(jobId, t) {
  const from = promotedFrom(t);
  if (!from) return '';
  return el('a', { href: trialHref(jobId, from), class: 'promoted', title: `continues trial ${from} at a higher rung`, onclick: (e) => {
    const row = document.getElementById(rowId(from));
    if (!row) return;
    e.preventDefault();
    row.scrollIntoView({ block: 'center' });
    row.classList.remove('flash');
    void row.offsetWidth;  // restart the highlight when clicked twice
    row.classList.add('flash');
    row.querySelector('a')?.focus({ preventScroll: true });
  } }, `↑ from #${from}`);
}

// Scatter colours by rung (cycling past the palette) and for final trials.
const RUNG_COLORS = ['#2457c5', '#0f8b8d', '#7a4bc0', '#c2185b', '#8d6e00'];
export const rungColor = (rung, alpha = 0.7) => {
  const hex = RUNG_COLORS[rung % RUNG_COLORS.length];
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${alpha})`;
};
export const FINAL_COLOR = '#1b7f3b';
