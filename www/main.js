// The page: state in the URL hash (state.js), three panels (panels/*.js) and a HUD, talking to the
// worker (rpc.js). No math happens here: Rust in the worker computes, these modules draw.
import { SCHEMA, parseHash, parseValue, writeHash } from './state.js';
import { call, onWorkerFailure } from './rpc.js';
import { view } from './draw.js';
import { ForwardPanel } from './panels/forward.js';
import { ScorePanel } from './panels/score.js';
import { ReversePanel } from './panels/reverse.js';
import { Hud } from './panels/hud.js';

const $ = (id) => document.getElementById(id);

function showError(msg) {
  $('error').textContent = msg;
  $('error').hidden = false;
}
onWorkerFailure(showError);

const stateNotes = [];
function stateNotice(msg) {
  stateNotes.push(msg);
  $('state-notice').textContent = stateNotes.join(' · ');
  $('state-notice').hidden = false;
}

const parsed = parseHash(location.hash);
const state = parsed.state;
if (parsed.corrupt) stateNotice(`The URL's settings could not be read (${parsed.corrupt}); using the defaults.`);
for (const m of parsed.clamped) stateNotice(`Clamped: ${m}.`);
writeHash(state);
const save = () => writeHash(state);

const hud = new Hud();
let forward;
let score;
let reverse;

function setHelp(on) {
  state.help = on;
  for (const el of document.querySelectorAll('.help')) el.hidden = !on;
  $('help-toggle').setAttribute('aria-pressed', String(on));
  document.body.dataset.help = on ? '1' : '0';
}

function showControl(el, key) {
  if (el.type === 'checkbox') el.checked = state[key];
  else el.value = String(state[key]);
}

// What a changed setting does.
async function apply(key) {
  if (key === 'backend') {
    location.reload(); // WebGPU initialises once per page
    return;
  }
  if (key === 'n' || key === 'seed') {
    const { x } = await call('drawData', { n: state.n, seed: state.seed });
    await reverse.setData(x);
    await forward.reset();
    await reverse.play();
    return;
  }
  if (key === 'arrows' || key === 'heat') score.draw();
  else if (key === 'grid') await score.refresh();
  else if (key === 'x0' || key === 'traj') reverse.draw();
  else if (key === 'sampler' || key === 'source' || SCHEMA[key] && reverse.optionKeys.has(key)) {
    reverse.syncOptions();
    await reverse.restart();
  }
}

function bindControls() {
  for (const el of document.querySelectorAll('[data-key]')) {
    const key = el.dataset.key;
    if (key === 'help') continue;
    showControl(el, key);
    if (el.type === 'range') continue; // the panels follow their sliders on 'input'
    el.addEventListener('change', () => {
      const text = el.type === 'checkbox' ? (el.checked ? '1' : '0') : el.value;
      const r = parseValue(key, text);
      if (r.error) {
        stateNotice(`Ignored: ${r.error}.`);
        showControl(el, key);
        return;
      }
      if (r.clamped) stateNotice(`Clamped: ${r.clamped}.`);
      state[key] = r.value;
      showControl(el, key);
      save();
      apply(key).catch((e) => showError(e.message));
    });
  }
  $('help-toggle').addEventListener('click', () => { setHelp(!state.help); save(); });
  addEventListener('keydown', (e) => {
    if (e.key === '?' && !(e.target instanceof HTMLInputElement)) {
      setHelp(!state.help);
      save();
    }
  });
}

async function main() {
  setHelp(state.help);
  let info;
  try {
    info = await call('init', { backend: state.backend });
  } catch (e) {
    $('backend').textContent = 'failed';
    showError(`Could not start: ${e.message}`);
    return;
  }
  hud.backend(info);
  document.body.dataset.backend = info.backend;
  if (info.notice) {
    $('notice').textContent = info.notice;
    $('notice').hidden = false;
  }
  const steps = info.steps;
  for (const key of ['t', 'st']) {
    if (state[key] > steps) {
      stateNotice(`Clamped: ${key}=${state[key]} is past T = ${steps}; using ${steps}.`);
      state[key] = steps;
    }
  }
  const { weights, means } = info.card.data;
  view.half = Math.max(4, Math.ceil(Math.max(...means.flat().map(Math.abs)) + 3.5));
  $('model-info').textContent =
    `ε-MLP trained ${info.card.trained_steps} steps on a ${weights.length}-component mixture · T = ${steps}`;

  const common = { state, call, steps, onError: showError, onChange: save };
  forward = new ForwardPanel(common);
  score = new ScorePanel(common);
  score.onChange = save;
  reverse = new ReversePanel({ ...common, trueWeights: weights, hud });
  reverse.optionKeys = new Set(['variance', 'ddimSteps', 'eta', 'spacing', 'lSteps', 'lStep', 'levels', 'perLevel',
    'aStep', 'sigmaMin', 'sdeSteps', 'sde', 'snr', 'corrector', 'ode', 'odeSteps']);
  bindControls();

  const { x } = await call('drawData', { n: state.n, seed: state.seed });
  await forward.init();
  await forward.reset();
  await reverse.setData(x);
  reverse.init();
  await score.init();
  document.body.dataset.ready = '1';
  reverse.play(); // show the reverse process straight away
}

window.dplay = {
  state,
  call,
  get score() { return score; },
  get reverse() { return reverse; },
};
main().catch((e) => showError(e.message));
