// The unas dashboard's entry point: the access-token form and the router.
// Views: #/ jobs (jobs.js), #/jobs/ID one job (job.js), #/jobs/ID/trials/N
// one trial (trial.js), #/analyze "Analyse a model" (analyze.js). Plain ES
// modules, no bundler; chart.js is the UMD build index.html loads first.
import { forgetToken, setToken, setUnauthorizedHandler, token } from './api.js';
import { analyzeView } from './analyze.js';
import { crumbs, el, errorCard, leaveView, main } from './dom.js';
import { jobView } from './job.js';
import { jobsView } from './jobs.js';
import { trialView } from './trial.js';

const logout = document.getElementById('logout');
const nav = document.getElementById('nav-analyze');

function showTokenForm(message = '') {
  leaveView();
  logout.hidden = true;
  nav.hidden = true;
  crumbs.textContent = '';
  main.replaceChildren(el('section', { class: 'card' },
    el('h1', {}, 'Access token'),
    el('p', { class: 'muted' }, 'The coordinator printed it at its first start (also in DATA_DIR/token). It is kept for this browser session only.'),
    message ? el('p', { class: 'error', role: 'alert' }, message) : '',
    el('form', { id: 'token-form', class: 'submit', onsubmit: (e) => {
      e.preventDefault();
      setToken(e.target.elements.token.value.trim());
      route();
    } },
      el('label', {}, 'Token', el('input', { name: 'token', type: 'password', required: true, autocomplete: 'off', autofocus: true })),
      el('button', { type: 'submit' }, 'Continue'))));
  main.querySelector('input').focus();
}

async function route() {
  leaveView();
  if (!token()) { showTokenForm(); return; }
  logout.hidden = false;
  nav.hidden = false;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'analyze' && parts.length === 1) await analyzeView();
    else if (parts[0] === 'jobs' && parts.length === 2) await jobView(parts[1]);
    else if (parts[0] === 'jobs' && parts[2] === 'trials' && parts.length === 4) await trialView(parts[1], parts[3]);
    else await jobsView();
  } catch (e) {
    if (e.status === 401) return;  // the token form is showing
    if (e.name === 'AbortError') return;  // the view was left while it loaded
    main.replaceChildren(errorCard(e.message));
  }
  main.focus({ preventScroll: true });
}

setUnauthorizedHandler(showTokenForm);
logout.addEventListener('click', () => { forgetToken(); showTokenForm(); });
window.addEventListener('hashchange', route);
route();
