// The multi-fidelity fixture of the browser test: the real server's answers
// about a finished synthetic job, with the fields of multi-fidelity search
// and final retraining (rung, promoted_from, proposal_id, final_round,
// final_test_accuracy; job final_round/final_epochs/finalizing; pareto
// final_round/final) laid over them by a fixed rule, and POST .../finalize
// answered as the REST contract says (409 with a message, 200 with the job).
// Why an overlay: at 276e796 the server has the fields' contract but no
// multi-fidelity job spec yet; everything else (sorting, paging, costs,
// metrics, events) is the real server's.
//
// The rule, over the job's completed trial ids in ascending order: the last
// four are final retraining of round 1 (the first of them tested in int8
// with a .tflite, the last dominated, so left off the final front); of the
// others, id % 10 == 0 is rung 2 promoted from id - 5, id % 5 == 0 rung 1
// promoted from id - 1, the rest rung 0.

export function fidelityRule(completedIds) {
  const ids = [...completedIds].sort((a, b) => a - b);
  const finals = ids.slice(-4);
  const info = new Map();
  for (const id of ids.slice(0, -4)) {
    const rung = id % 10 === 0 ? 2 : id % 5 === 0 ? 1 : 0;
    const from = rung === 2 ? id - 5 : rung === 1 ? id - 1 : 0;
    info.set(id, { rung, promoted_from: info.has(from) ? from : 0, final_round: 0 });
  }
  for (const [i, id] of finals.entries()) info.set(id, { rung: 0, promoted_from: 0, final_round: 1, int8: i === 0, tflite: i === 0 });
  const proposal = (id) => (info.get(id)?.promoted_from ? proposal(info.get(id).promoted_from) : id);
  for (const [id, v] of info) v.proposal_id = proposal(id);
  return { info, finals, front: finals.slice(0, -1) };
}

// The trial JSON with the fixture's fields (a trial outside the rule, such
// as one not completed, is a rung-0 search trial).
export function overlayTrial(t, rule) {
  const v = rule.info.get(t.trial_id) || { rung: 0, promoted_from: 0, final_round: 0, proposal_id: t.trial_id };
  const metrics = t.metrics && v.int8 ? { ...t.metrics, int8_test_error: Math.min(1, (t.metrics.test_error ?? t.metrics.val_error) + 0.0125) } : t.metrics;
  const m = metrics;
  const accuracy = !m ? null : m.int8_test_error != null ? 1 - m.int8_test_error : m.test_error != null ? 1 - m.test_error : null;
  return { ...t, metrics, has_tflite: Boolean(v.tflite) || t.has_tflite, proposal_id: v.proposal_id, rung: v.rung,
    promoted_from: v.promoted_from, final_round: v.final_round, final_test_accuracy: accuracy };
}

// Routes the page's requests about job jobId through the overlay. state:
// { round, epochs, finalizing, refuseNext } is read at each answer;
// finalizeCalls collects each POST's { body, contentType, auth }.
// modelBytes is what the fixture's .tflite download answers.
export async function routeFixture(page, { jobId, rule, state, finalizeCalls, modelBytes }) {
  const prefix = `/api/v1/jobs/${jobId}`;
  const job = (j) => ({ ...j, final_round: state.round, final_epochs: state.epochs, finalizing: state.finalizing });
  const trial = (t) => overlayTrial(t, rule);
  const byValError = (a, b) => a.metrics.val_error - b.metrics.val_error;
  const get = async (request, path) => {
    const r = await fetch(`${new URL(request.url()).origin}${path}`, { headers: { Authorization: request.headers().authorization } });
    if (!r.ok) throw new Error(`fixture: GET ${path} answered ${r.status}`);
    return r.json();
  };
  await page.route((url) => url.pathname === prefix || url.pathname.startsWith(`${prefix}/`), async (route) => {
    const request = route.request();
    const p = new URL(request.url()).pathname;
    if (p === `${prefix}/finalize` && request.method() === 'POST') {
      finalizeCalls.push({ body: request.postData(), contentType: request.headers()['content-type'], auth: request.headers().authorization });
      if (state.refuseNext) {
        state.refuseNext = false;
        return route.fulfill({ status: 409, contentType: 'application/json', json: { error: `job ${jobId} cannot be finalised: a final round is already running` } });
      }
      const answer = await get(request, prefix);
      state.round += 1;
      state.epochs = JSON.parse(request.postData() || '{}').epochs || 0;
      state.finalizing = true;
      return route.fulfill({ status: 200, contentType: 'application/json', json: job(answer) });
    }
    const id = (p.match(/\/trials\/(\d+)\/model\.tflite$/) || [])[1];
    if (id && rule.info.get(Number(id))?.tflite) {
      return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: modelBytes });
    }
    if (p.endsWith('/model.tflite') || p.endsWith('/export') || p.endsWith('/hypervolume')) return route.continue();
    const response = await route.fetch();
    if (p.endsWith('/events')) {
      // A finished job's stream: one job_done event, then it closes.
      const text = (await response.text()).replace(/^data: (.*)$/gm, (_, data) => {
        const e = JSON.parse(data);
        return `data: ${JSON.stringify({ ...e, job: job(e.job), ...(e.trial ? { trial: trial(e.trial) } : {}) })}`;
      });
      return route.fulfill({ response, body: text });
    }
    const body = await response.json();
    let json = body;
    if (p === prefix) json = job(body);
    else if (p === `${prefix}/pareto`) {
      const finals = [];
      for (const fid of rule.front) {
        finals.push(trial(await get(request, `${prefix}/trials/${fid}`)));
      }
      json = { ...body, trials: body.trials.filter((t) => !rule.finals.includes(t.trial_id)).map(trial), final_round: 1, final: finals.sort(byValError) };
    } else if (p === `${prefix}/trials`) json = { ...body, trials: body.trials.map(trial) };
    else if (/\/trials\/\d+$/.test(p)) json = trial(body);
    return route.fulfill({ response, json });
  });
}
