// chart.js wrappers: the Pareto scatter, step lines (hypervolume) and the
// memory timeline that the trial page and the "Analyse a model" page share.
// chart.js itself is the UMD build loaded by index.html (window.Chart);
// every chart made here is destroyed when the view is left.
import { fmtInt, onLeave } from './dom.js';

const Chart = window.Chart;

function make(canvas, config) {
  const chart = new Chart(canvas, config);
  onLeave(() => chart.destroy());
  return chart;
}

const axis = (text, extra = {}) => ({ type: 'linear', title: { display: true, text }, ...extra });

// A scatter plot; points are {x, y, ...}. label(point) gives a point's
// tooltip, onPick(point) runs when a point is clicked.
export function scatterChart(canvas, { label, onPick }) {
  const chart = make(canvas, {
    type: 'scatter',
    data: { datasets: [] },
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      plugins: { tooltip: { callbacks: { label: (c) => label(c.raw) } } },
      onClick: (_, elements) => {
        const hit = elements[0];
        if (hit) onPick(chart.data.datasets[hit.datasetIndex].data[hit.index]);
      },
    },
  });
  // New datasets and axis titles, redrawn.
  chart.show = (datasets, xTitle, yTitle) => {
    chart.data.datasets = datasets;
    chart.options.scales = { x: axis(xTitle), y: axis(yTitle) };
    chart.update();
  };
  return chart;
}

// One stepped line (x, y) with axis titles; chart.setPoints(points) redraws.
export function stepChart(canvas, { label, xTitle, yTitle }) {
  const chart = make(canvas, {
    type: 'line',
    data: { datasets: [{ label, data: [], stepped: true, borderColor: '#2457c5', pointRadius: 0 }] },
    options: { animation: false, maintainAspectRatio: false, parsing: false, scales: { x: axis(xTitle), y: axis(yTitle) } },
  });
  chart.setPoints = (points) => { chart.data.datasets[0].data = points; chart.update(); };
  return chart;
}

// Colours of the memory timeline's usual series.
export const TIMELINE_COLORS = { file: '#7a869a', best: '#2457c5', partial: '#1b7f3b', bound: '#b3261e' };

// Bytes live at each step: series = [{label, bytes: [per step], color,
// dash, xs}], optionally a horizontal bound {label, bytes}; xTitle names the
// x axis ('step' when absent). A series' step i is at x = xs[i] when it has
// xs, else at i. A bound far above the peak would flatten the lines: then
// the axis stops above the peak and the legend says the bound is above the
// chart.
export function memoryTimeline(canvas, series, bound, xTitle = 'step') {
  const sets = series.map((s) => ({
    label: s.label, data: s.bytes.map((v, i) => ({ x: s.xs ? s.xs[i] : i, y: v })), borderColor: s.color, backgroundColor: s.color,
    stepped: 'middle', pointRadius: 2, borderDash: s.dash,
  }));
  const peak = Math.max(0, ...series.flatMap((s) => s.bytes));
  const boundOff = bound?.bytes != null && bound.bytes > 3 * peak;
  if (bound?.bytes != null) {
    const steps = Math.max(1, ...sets.flatMap((s) => s.data.map((p) => p.x + 1))) - 1;
    sets.push({ label: `${bound.label} ${fmtInt(bound.bytes)} B${boundOff ? ' (above the chart)' : ''}`,
      data: [{ x: 0, y: bound.bytes }, { x: steps, y: bound.bytes }], borderColor: TIMELINE_COLORS.bound, borderDash: [6, 4], pointRadius: 0 });
  }
  return make(canvas, {
    type: 'line', data: { datasets: sets },
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: {
        x: axis(xTitle, { ticks: { stepSize: 1, precision: 0 } }),
        y: { beginAtZero: true, max: boundOff ? Math.ceil(peak * 1.25) : undefined, title: { display: true, text: 'live bytes' } },
      },
    },
  });
}
