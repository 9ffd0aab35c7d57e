// The datasets of the job page's Pareto scatter: each completed trial in
// exactly one of them. A single-fidelity job (every trial at rung 0, none
// retrained) shows the search front, then feasible trials within and beyond
// the soft bounds, then infeasible ones. A multi-fidelity job splits the
// feasible trials by rung (a colour and a marker per rung, in the legend),
// and final-retraining trials are stars: the final front large, the rest of
// the round small.
import { FINAL_COLOR, isFinal, rungColor, rungOf } from './fidelity.js';
import { feasible, withinBounds } from './trials.js';

const RUNG_MARKERS = ['circle', 'triangle', 'rect', 'rectRounded', 'crossRot'];

// trials: Map id -> completed trial; front: Map id -> trial (the search
// front); finalFront: Map id -> trial (the final front); ax, ay: AXES
// entries. Returns chart.js datasets (points {x, y, t}).
export function scatterDatasets({ trials, front, finalFront, spec, ax, ay }) {
  const point = (t) => ({ x: ax.get(t), y: ay.get(t), t });
  const plotted = (t) => ax.get(t) != null && ay.get(t) != null;
  const searchFront = [...front.values()].filter((t) => !isFinal(t) && !finalFront.has(t.trial_id));
  const onFront = new Set(searchFront.map((t) => t.trial_id));
  const rest = [...trials.values()].filter((t) => !onFront.has(t.trial_id) && !finalFront.has(t.trial_id) && plotted(t));
  const searchRest = rest.filter((t) => !isFinal(t));
  const good = searchRest.filter((t) => feasible(t, spec));
  const infeasible = { label: 'infeasible (beyond a hard constraint)', data: searchRest.filter((t) => !feasible(t, spec)).map(point),
    backgroundColor: 'rgba(120,120,120,.45)', pointStyle: 'crossRot', pointRadius: 5, borderColor: 'rgba(120,120,120,.8)' };
  const frontSet = { label: 'Pareto front', data: searchFront.filter(plotted).map(point), backgroundColor: '#d9480f', pointRadius: 6, pointStyle: 'rectRot' };
  const finals = rest.filter(isFinal);
  const multi = finalFront.size > 0 || finals.length > 0 || [...trials.values(), ...front.values()].some((t) => rungOf(t) > 0);
  if (!multi) {
    return [frontSet,
      { label: 'feasible', data: good.filter((t) => withinBounds(t, spec)).map(point), backgroundColor: 'rgba(36,87,197,.7)', pointRadius: 4 },
      { label: 'feasible, beyond a soft bound', data: good.filter((t) => !withinBounds(t, spec)).map(point), backgroundColor: 'rgba(36,87,197,.25)', borderColor: 'rgba(36,87,197,.6)', pointRadius: 4 },
      infeasible];
  }
  const sets = [];
  if (finalFront.size) {
    sets.push({ label: 'final front (retrained)', data: [...finalFront.values()].filter(plotted).map(point),
      backgroundColor: FINAL_COLOR, borderColor: '#0b4d22', pointStyle: 'star', pointRadius: 9, borderWidth: 2 });
  }
  if (finals.length) {
    sets.push({ label: 'final retraining, dominated', data: finals.map(point), backgroundColor: 'rgba(27,127,59,.35)', borderColor: FINAL_COLOR, pointStyle: 'star', pointRadius: 6 });
  }
  sets.push(frontSet);
  const rungs = [...new Set(good.map(rungOf))].sort((a, b) => a - b);
  for (const r of rungs) {
    const marker = RUNG_MARKERS[r % RUNG_MARKERS.length];
    const at = good.filter((t) => rungOf(t) === r);
    const inside = at.filter((t) => withinBounds(t, spec)), beyond = at.filter((t) => !withinBounds(t, spec));
    if (inside.length) sets.push({ label: `rung ${r}`, data: inside.map(point), backgroundColor: rungColor(r, 0.7), borderColor: rungColor(r, 1), pointStyle: marker, pointRadius: 4 + Math.min(r, 3) });
    if (beyond.length) sets.push({ label: `rung ${r}, beyond a soft bound`, data: beyond.map(point), backgroundColor: rungColor(r, 0.2), borderColor: rungColor(r, 0.6), pointStyle: marker, pointRadius: 4 + Math.min(r, 3) });
  }
  if (infeasible.data.length) sets.push(infeasible);
  return sets;
}
