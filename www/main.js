// The page: UI state in the URL hash, drawing on canvases, and a Player loop that asks the
// worker for a few reverse steps per frame (oneStep -> updateUI). No math happens here.

const $ = (id) => document.getElementById(id);

// ---- state, declarative and in the URL hash (#backend=auto&n=2000&seed=0&speed=10) ----
const DEFAULTS = { backend: 'auto', n: 2000, seed: 0, speed: 10 };
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const s = { ...DEFAULTS };
  if (['auto', 'webgpu', 'flex'].includes(p.get('backend'))) s.backend = p.get('backend');
  for (const k of ['n', 'seed', 'speed']) {
    const v = Number(p.get(k));
    if (p.has(k) && Number.isFinite(v) && v >= 0) s[k] = Math.floor(v);
  }
  s.n = Math.min(Math.max(s.n, 100), 20000);
  s.speed = Math.min(Math.max(s.speed, 1), 200);
  return s;
}
const state = readHash();
function writeHash() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v !== DEFAULTS[k]) p.set(k, v);
  history.replaceState(null, '', p.toString() ? `#${p}` : location.pathname);
}

// ---- the worker, as promises ----
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 0;
const pending = new Map();
worker.onmessage = (e) => {
  const { id, ok, result, error } = e.data;
  const p = pending.get(id);
  pending.delete(id);
  if (ok) p.resolve(result);
  else p.reject(new Error(error));
};
worker.onerror = (e) => showError(`worker failed: ${e.message}`);
function call(cmd, args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, args });
  });
}

// ---- drawing ----
let view = 6; // half-width of the square view in data units
function drawPoints(canvas, layers) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#eee';
  ctx.beginPath();
  ctx.moveTo(w / 2, 0); ctx.lineTo(w / 2, h);
  ctx.moveTo(0, h / 2); ctx.lineTo(w, h / 2);
  ctx.stroke();
  const sx = w / (2 * view);
  for (const { points, color, size } of layers) {
    if (!points) continue;
    ctx.fillStyle = color;
    for (let i = 0; i + 1 < points.length; i += 2) {
      const px = (points[i] + view) * sx;
      const py = h - (points[i + 1] + view) * sx;
      ctx.fillRect(px - size / 2, py - size / 2, size, size);
    }
  }
}
const COLORS = { data: 'rgba(120,120,120,0.35)', xt: 'rgba(21,101,192,0.55)', x0: 'rgba(230,81,0,0.55)' };

// ---- UI ----
function showError(msg) {
  const el = $('error');
  el.textContent = msg;
  el.hidden = false;
}
let data = null;
let steps = 0;

async function redrawForward(t) {
  const { x } = await call('forwardAt', { t });
  drawPoints($('forward-canvas'), [{ points: x, color: t === 0 ? COLORS.data : COLORS.xt, size: 2 }]);
  $('t-value').textContent = String(t);
  document.body.dataset.forwardT = String(t);
}

// Scrubbing: at most one request in flight; the latest position wins.
let scrubBusy = false;
let scrubWanted = null;
async function scrubTo(t) {
  scrubWanted = t;
  if (scrubBusy) return;
  scrubBusy = true;
  try {
    while (scrubWanted !== null) {
      const want = scrubWanted;
      scrubWanted = null;
      await redrawForward(want);
    }
  } catch (e) {
    showError(e.message);
  } finally {
    scrubBusy = false;
  }
}

let chainRunning = false;
async function playChain() {
  if (chainRunning) { chainRunning = false; return; }
  chainRunning = true;
  $('chain-play').textContent = '❚❚ chain';
  data = (await call('drawData', { n: state.n, seed: state.seed })).x;
  let t = 0;
  while (chainRunning && t < steps) {
    const r = await call('chainSteps', { k: state.speed, seed: state.seed + 1 });
    t = r.t;
    drawPoints($('forward-canvas'), [{ points: r.x, color: COLORS.xt, size: 2 }]);
    $('t-scrub').value = String(t);
    $('t-value').textContent = String(t);
    await new Promise(requestAnimationFrame);
  }
  chainRunning = false;
  $('chain-play').textContent = '▶ chain';
}

// Player: one batch of reverse steps per frame.
const player = { running: false, done: false, frame: null };
async function oneStep() {
  const f = await call('sampleSteps', { k: state.speed });
  player.frame = f;
  player.done = f.remaining === 0;
}
function updateUI() {
  const f = player.frame;
  if (!f) return;
  const layers = [{ points: data, color: COLORS.data, size: 2 }];
  if ($('show-x0').checked) layers.push({ points: f.x0, color: COLORS.x0, size: 2 });
  layers.push({ points: f.x, color: COLORS.xt, size: 2 });
  drawPoints($('reverse-canvas'), layers);
  const taken = steps - f.remaining;
  $('step-counter').textContent = String(taken);
  $('t-reverse').textContent = f.remaining === 0 ? '0 (done)' : String(f.t);
  document.body.dataset.reverseStep = String(taken);
}
async function play() {
  if (player.running) return;
  if (player.done || !player.frame) {
    await call('startSampling', { n: state.n, seed: state.seed });
    player.done = false;
    player.frame = null;
  }
  player.running = true;
  $('pause').disabled = false;
  try {
    while (player.running && !player.done) {
      await oneStep();
      updateUI();
      await new Promise(requestAnimationFrame);
    }
  } catch (e) {
    showError(e.message);
  }
  player.running = false;
  $('pause').disabled = true;
  $('sample').textContent = player.done ? '↻ sample again' : '▶ resume';
  if (player.done) document.body.dataset.reverseDone = '1';
}

async function main() {
  $('n-points').value = state.n;
  $('seed').value = state.seed;
  $('speed').value = state.speed;
  let info;
  try {
    info = await call('init', { backend: state.backend });
  } catch (e) {
    $('backend').textContent = 'failed';
    showError(`Could not start: ${e.message}`);
    return;
  }
  const badge = $('backend');
  badge.dataset.state = info.backend;
  badge.textContent = info.backend === 'webgpu' ? 'WebGPU' : 'CPU (flex)';
  $('adapter').textContent = info.adapter ?? '';
  document.body.dataset.backend = info.backend;
  if (info.notice) {
    $('notice').textContent = info.notice;
    $('notice').hidden = false;
  }
  steps = info.steps;
  const { weights, means } = info.card.data;
  view = Math.max(4, Math.ceil(Math.max(...means.flat().map(Math.abs)) + 3.5));
  $('model-info').textContent =
    `ε-MLP trained ${info.card.trained_steps} steps on a ${weights.length}-component mixture · T = ${steps}`;
  $('t-scrub').max = String(steps);
  $('step-total').textContent = String(steps);

  async function reset() {
    data = (await call('drawData', { n: state.n, seed: state.seed })).x;
    await scrubTo(Number($('t-scrub').value));
    player.frame = null;
    player.done = false;
    drawPoints($('reverse-canvas'), [{ points: data, color: COLORS.data, size: 2 }]);
  }
  await reset();

  $('t-scrub').disabled = false;
  $('chain-play').disabled = false;
  $('sample').disabled = false;
  $('t-scrub').addEventListener('input', (e) => scrubTo(Number(e.target.value)));
  $('chain-play').addEventListener('click', () => playChain().catch((e) => showError(e.message)));
  $('sample').addEventListener('click', () => play());
  $('pause').addEventListener('click', () => { player.running = false; });
  $('show-x0').addEventListener('change', updateUI);
  for (const [id, key] of [['n-points', 'n'], ['seed', 'seed'], ['speed', 'speed']]) {
    $(id).addEventListener('change', async (e) => {
      const v = Math.floor(Number(e.target.value));
      if (!Number.isFinite(v) || v < Number(e.target.min)) return;
      state[key] = v;
      writeHash();
      player.running = false;
      if (key !== 'speed') await reset();
    });
  }
  document.body.dataset.ready = '1';
  // Show the reverse process straight away.
  play();
}

window.dplay = { state, player, call };
main();
