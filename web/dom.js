// DOM and formatting helpers shared by the views, and the current view's
// lifecycle: whatever a view starts (timers, event streams, charts) it
// registers with onLeave, and the router calls leaveView before the next one.

export const main = document.getElementById('main');
export const crumbs = document.getElementById('crumbs');

// el('a', { href, class, onclick }, ...children): attributes that are
// undefined, null or false are left out; on* keys become event listeners.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== '' && c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

// A value the server did not measure (null or absent) shows as an em dash.
export const NONE = '—';
const missing = (v) => v === null || v === undefined || Number.isNaN(v);
export const fmtInt = (v) => (missing(v) ? NONE : Number(v).toLocaleString('en-US'));
export const fmtPct = (v) => (missing(v) ? NONE : `${(100 * v).toFixed(2)}%`);
export const fmtNum = (v, digits = 3) => (missing(v) ? NONE : Number(v).toFixed(digits));
export const fmtBytes = (v) => (missing(v) ? NONE : `${fmtInt(v)} B`);
export const statusCell = (s) => el('span', { class: `status-${s}` }, s);
export const stat = (label, value, id) => el('div', { id }, el('span', {}, label), el('strong', {}, value));
export const errorCard = (message) => el('section', { class: 'card' }, el('p', { class: 'error', role: 'alert' }, message));

// Saves a Blob under a file name through a temporary object URL.
export function saveBlob(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: fileName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

let leaving = [];

// Registers fn to run when the current view is left.
export function onLeave(fn) { leaving.push(fn); }

// Ends the current view: runs and forgets every onLeave callback.
export function leaveView() {
  const fns = leaving;
  leaving = [];
  for (const fn of fns) {
    try { fn(); } catch (e) { console.warn('leaving a view:', e.message); }
  }
}
