// The form that submits a job, and its JSON beside it. One spec object is the
// truth: each form field reads and writes one place in it (a path such as
// "final.training.epochs"), the textarea shows all of it, so editing either
// updates the other and fields the form does not show are kept as they are.
// Its defaults are an example job read from the server at run time
// (GET /api/v1/recipes: examples/jobs/*.json, the README's main job first),
// the boards and registered data sets come from GET /api/v1/boards and
// /datasets, and the server's validation message is shown beside the field
// it names (docs/jobs.md).
import { api } from './api.js';
import { el } from './dom.js';

// The README's main job (examples/jobs/fashion-mnist.json) is the default.
export const DEFAULT_RECIPE = 'fashion-mnist';
// When the server lists no example (an installation without examples/):
// what the server needs and nothing more; its own defaults do the rest.
const FALLBACK_SPEC = { name: 'search', dataset: 'fashion-mnist', budget: { trials: 20 } };

const LIMIT_KEYS = [['val_error', 'val error'], ['peak_sram_bytes', 'peak SRAM (bytes)'], ['flash_bytes', 'flash (bytes)'], ['macs', 'MACs']];

// The value at a dotted path of an object, or undefined.
export function getPath(spec, path) {
  return path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), spec);
}

// Sets (or with undefined, removes) the value at a dotted path, making the
// objects on the way; objects left empty by a removal are removed too.
export function setPath(spec, path, value) {
  const keys = path.split('.');
  const walk = (o, i) => {
    const k = keys[i];
    if (i === keys.length - 1) {
      if (value === undefined) delete o[k]; else o[k] = value;
      return;
    }
    if (o[k] === undefined || o[k] === null || typeof o[k] !== 'object' || Array.isArray(o[k])) {
      if (value === undefined) return;
      o[k] = {};
    }
    walk(o[k], i + 1);
    if (value === undefined && Object.keys(o[k]).length === 0) delete o[k];
  };
  walk(spec, 0);
}

// Each field: the input's name, its label, the spec path, its kind
// ('text' | 'number' | 'select' | 'check' | 'shape'), and for a select its
// options ([value, label]; the first, '', means "left out").
function fieldDefs(boards) {
  const defs = [
    { name: 'name', label: 'Name', path: 'name', kind: 'text' },
    { name: 'dataset', label: 'Data set', path: 'dataset', kind: 'text', list: 'dataset-forms',
      title: 'fashion-mnist, synthetic, data:NAME (registered with unas data add), idx:DIR, cifar10:DIR, folder:DIR (one subfolder per class), csv:FILE, speech_commands:DIR; paths are on the workers\u2019 machine' },
    { name: 'input_shape', label: 'Input shape H,W,C (folder:, csv:)', path: 'input_shape', kind: 'shape', placeholder: 'e.g. 32,32,3' },
    { name: 'bad_files', label: 'Bad image files', path: 'bad_files', kind: 'select', options: [['', 'fail (default)'], ['skip', 'skip']] },
    { name: 'evaluator', label: 'Evaluator', path: 'evaluator', kind: 'select',
      options: [['', 'train (default)'], ['synthetic', 'synthetic (no training: for trying the service)']] },
    { name: 'synthetic_delay_ms', label: 'Synthetic delay per trial (ms)', path: 'synthetic_delay_ms', kind: 'number', synthetic: true },
    { name: 'strategy', label: 'Strategy', path: 'strategy', kind: 'select', options: [['', 'aging (default)'], ['aging', 'aging'], ['bo', 'bo'], ['random', 'random']] },
    { name: 'accounting', label: 'SRAM accounting (runtime)', path: 'accounting', kind: 'select',
      options: [['', 'tflm (default)'], ['tflm', 'tflm: TFLM reference kernels'], ['tflm_cmsis_nn', 'tflm_cmsis_nn: TFLM + CMSIS-NN'], ['unas', 'unas'], ['firmware', 'firmware: unas C']] },
    { name: 'board', label: 'Board (its memory becomes constraints)', path: 'board', kind: 'select',
      options: [['', 'none'], ...boards.map((b) => [b.name, b.description || b.name])] },
    { name: 'trials', label: 'Budget: search proposals', path: 'budget.trials', kind: 'number' },
    { name: 'wall_seconds', label: 'Time budget (s)', path: 'budget.wall_seconds', kind: 'number', placeholder: 'none' },
    { name: 'seed', label: 'Seed', path: 'seed', kind: 'number' },
    { name: 'epochs', label: 'Search training: epochs', path: 'training.epochs', kind: 'number', train: true },
    { name: 'subset', label: 'Search training: subset (0..1]', path: 'training.subset', kind: 'number', step: 'any', train: true },
    { name: 'optimizer', label: 'Search training: optimiser', path: 'training.optimizer', kind: 'select', train: true,
      options: [['', 'server default'], ['adamw', 'adamw'], ['sgdw', 'sgdw (μNAS\u2019s)']] },
    { name: 'final_enabled', label: 'Final retraining of the front', path: 'final.enabled', kind: 'check' },
    { name: 'final_networks', label: 'Final: networks retrained', path: 'final.networks', kind: 'number' },
    { name: 'final_epochs', label: 'Final: epochs', path: 'final.training.epochs', kind: 'number', train: true },
    { name: 'final_optimizer', label: 'Final: optimiser', path: 'final.training.optimizer', kind: 'select', train: true,
      options: [['', 'the search\u2019s'], ['adamw', 'adamw'], ['sgdw', 'sgdw (μNAS\u2019s)']] },
  ];
  for (const [k, label] of LIMIT_KEYS) defs.push({ name: `b_${k}`, label: `Bound: ${label}`, path: `bounds.${k}`, kind: 'number', step: 'any' });
  for (const [k, label] of LIMIT_KEYS.slice(1)) defs.push({ name: `c_${k}`, label: `Constraint: ${label}`, path: `constraints.${k}`, kind: 'number' });
  return defs;
}

// The form's value of a field as the spec holds it (undefined: left out).
function readField(def, input) {
  if (def.kind === 'check') return input.checked;
  const v = input.value.trim();
  if (v === '') return undefined;
  if (def.kind === 'number') return Number(v);
  // "H,W,C" -> [H, W, C]; the server checks the numbers (and says which is wrong).
  if (def.kind === 'shape') return v.split(',').map((x) => Number(x.trim()));
  return v;
}

function showField(def, input, value) {
  if (def.kind === 'check') { input.checked = Boolean(value); return; }
  if (value === undefined || value === null) { input.value = ''; return; }
  if (def.kind === 'shape' && Array.isArray(value)) { input.value = value.join(','); return; }
  // A field the form shows as one value but the spec holds as an object
  // (a custom board, a strategy with its parameters): its name or type.
  if (typeof value === 'object') { input.value = value.type ?? value.name ?? ''; return; }
  if (def.kind === 'select' && ![...input.options].some((o) => o.value === String(value))) {
    input.append(el('option', { value: String(value) }, String(value)));
  }
  input.value = String(value);
}

// Which field a server message names: its text up to the first ':' is a
// path ("budget.trials", "final.training.epochs", "input_shape"); the field
// with the longest path that starts it. Returns the def or null.
export function fieldOfMessage(defs, message) {
  const colon = message.indexOf(':');
  if (colon <= 0) return null;
  const path = message.slice(0, colon).replace(/\[\d+\]/g, '').trim();
  let best = null;
  for (const d of defs) {
    if ((path === d.path || path.startsWith(`${d.path}.`)) && (!best || d.path.length > best.path.length)) best = d;
  }
  // A message about an object ("final: ...") goes to its first field.
  return best || defs.find((d) => d.path.startsWith(`${path}.`)) || null;
}

export async function submitForm() {
  const [recipes, boards, datasets] = await Promise.all([
    api('/recipes').then((r) => r.recipes).catch(() => []),
    api('/boards').then((r) => r.boards).catch(() => []),
    api('/datasets').then((r) => r.datasets).catch(() => []),
  ]);
  const usable = recipes.filter((r) => r.spec);
  const first = usable.find((r) => r.name === DEFAULT_RECIPE) || usable[0];
  let spec = structuredClone(first ? first.spec : FALLBACK_SPEC);

  const message = el('p', { id: 'submit-error', class: 'error', role: 'alert' });
  const jsonMessage = el('p', { id: 'spec-json-error', class: 'error', role: 'alert' });
  const json = el('textarea', { id: 'spec-json', name: 'spec-json', rows: 18, spellcheck: 'false', 'aria-label': 'the job spec as JSON' });
  const defs = fieldDefs(boards);
  const inputs = new Map();
  const hints = new Map();
  const labels = [];
  for (const d of defs) {
    let input;
    if (d.kind === 'select') {
      input = el('select', { name: d.name }, ...d.options.map(([v, label]) => el('option', { value: v }, label)));
    } else if (d.kind === 'check') {
      input = el('input', { name: d.name, type: 'checkbox' });
    } else {
      input = el('input', { name: d.name, type: d.kind === 'number' ? 'number' : 'text', step: d.step, list: d.list,
        title: d.title, placeholder: d.placeholder || (d.kind === 'number' ? 'server default' : undefined) });
    }
    const hint = el('span', { class: 'error field-error', id: `field-error-${d.name}` });
    inputs.set(d.name, input);
    hints.set(d.name, hint);
    const label = el('label', { class: d.kind === 'check' ? 'check' : '', 'data-field': d.name }, d.label, input, hint);
    labels.push([d, label]);
    input.addEventListener('input', () => { fromForm(d); });
    input.addEventListener('change', () => { fromForm(d); });
  }

  const clearErrors = () => {
    message.textContent = '';
    for (const [name, hint] of hints) { hint.textContent = ''; inputs.get(name).removeAttribute('aria-invalid'); }
  };
  // Real training's fields only for real training, the delay only without.
  const showRelevant = () => {
    const synthetic = spec.evaluator === 'synthetic';
    for (const [d, label] of labels) label.hidden = (d.synthetic && !synthetic) || (d.train && synthetic);
  };
  const toJson = () => { json.value = JSON.stringify(spec, null, 2); jsonMessage.textContent = ''; json.removeAttribute('aria-invalid'); };
  const toForm = () => {
    for (const d of defs) showField(d, inputs.get(d.name), getPath(spec, d.path));
    showRelevant();
  };
  function fromForm(d) {
    const value = readField(d, inputs.get(d.name));
    if (d.path === 'strategy' && spec.strategy && typeof spec.strategy === 'object') {
      // The recipe's strategy carries its parameters: change the type only
      // (left out: the server's default type, the parameters kept).
      if (value === undefined) delete spec.strategy.type; else spec.strategy.type = value;
    } else {
      setPath(spec, d.path, value);
    }
    showRelevant();
    toJson();
  }
  json.addEventListener('input', () => {
    let parsed;
    try {
      parsed = JSON.parse(json.value);
    } catch (e) {
      jsonMessage.textContent = `The JSON is not valid (the form keeps its last valid spec): ${e.message}`;
      json.setAttribute('aria-invalid', 'true');
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      jsonMessage.textContent = 'The JSON must be one object, the job spec (docs/jobs.md).';
      json.setAttribute('aria-invalid', 'true');
      return;
    }
    jsonMessage.textContent = '';
    json.removeAttribute('aria-invalid');
    spec = parsed;
    toForm();
  });

  const recipeSelect = el('select', { name: 'recipe', id: 'recipe' },
    ...usable.map((r) => el('option', { value: r.name, selected: r === first }, `examples/jobs/${r.name}.json`)));
  recipeSelect.addEventListener('change', () => {
    const r = usable.find((x) => x.name === recipeSelect.value);
    if (!r) return;
    spec = structuredClone(r.spec);
    clearErrors();
    toForm();
    toJson();
  });

  const form = el('form', { id: 'submit-form', class: 'submit', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors();
    if (json.getAttribute('aria-invalid')) { message.textContent = 'Fix the JSON first: it is not valid.'; return; }
    try {
      const job = await api('/jobs', { method: 'POST', body: spec });
      location.hash = `#/jobs/${encodeURIComponent(job.job_id)}`;
    } catch (err) {
      if (err.status === 401) return;
      message.textContent = err.message;
      const d = fieldOfMessage(defs, err.message);
      if (d && !labels.find(([x]) => x === d)[1].hidden) {
        hints.get(d.name).textContent = err.message.slice(err.message.indexOf(':') + 1).trim();
        inputs.get(d.name).setAttribute('aria-invalid', 'true');
        inputs.get(d.name).focus();
      }
    }
  } },
  ...labels.map(([, label]) => label),
  el('button', { type: 'submit' }, 'Submit job'));

  toForm();
  toJson();
  const unread = recipes.filter((r) => !r.spec).map((r) => `${r.name}.json: ${r.error}`);
  return el('section', { class: 'card', id: 'submit-card' }, el('h2', {}, 'Submit a job'),
    el('p', { class: 'muted' }, 'Constraints are hard: a candidate beyond one is never trained. Bounds are soft: they set the hypervolume\u2019s reference point. ',
      'The budget counts search proposals; final retraining comes after it.'),
    usable.length ? el('label', { class: 'recipe' }, 'Start from an example job', recipeSelect)
      : el('p', { class: 'muted', id: 'no-recipes' }, 'The server lists no example jobs (examples/jobs beside its dashboard): the form starts from a minimal spec.'),
    unread.length ? el('p', { class: 'error' }, `Example jobs the server could not read: ${unread.join('; ')}`) : '',
    el('datalist', { id: 'dataset-forms' },
      ...datasets.map((d) => el('option', { value: `data:${d.name}` }, `registered: ${d.kind}, ${d.num_classes} classes, ${d.input_shape.join('×')}`)),
      ...['fashion-mnist', 'synthetic', 'folder:', 'csv:', 'speech_commands:', 'idx:', 'cifar10:'].map((o) => el('option', { value: o }))),
    form, message,
    el('details', { id: 'spec-json-details', open: true }, el('summary', {}, 'The job as JSON (edits here update the form, and the form\u2019s update it)'), json, jsonMessage));
}
