// The page: state in the URL hash (state.js), five panels (panels/*.js) and a HUD, talking to the
// worker (rpc.js). No math happens here: Rust in the worker computes, these modules draw.
// data=digits switches to image mode (image-mode.js): the forward, reverse, SDEdit and model panels
// work on images; the 2-D panels are set up the first time 2-D data is shown.
import { SCHEMA, extendSchema, parseHash, parseValue, writeHash } from './state.js';
import { processConfig, processKeys } from './process.js';
import { buildGuidanceControls, buildOptionRows, buildTrainingControls, catalogue, entry, fillSelect, imageSamplers, optionKeys, schemaEntries, setCatalogue, showOptionRows, trainingKeys } from './catalogue.js';
import { call, onWorkerEvent, onWorkerFailure } from './rpc.js';
import { drawPoints, drawTrajLegend, view } from './draw.js';
import { ForwardPanel, pointsView } from './panels/forward.js';
import { ImageMode } from './image-mode.js';
import { ScorePanel } from './panels/score.js';
import { LangevinPair } from './panels/langevin-pair.js';
import { ReversePanel } from './panels/reverse.js';
import { DataPanel } from './panels/data.js';
import { TrainPanel } from './panels/train.js';
import { PointsModel } from './panels/points-model.js';
import { Hud } from './panels/hud.js';

const $ = (id) => document.getElementById(id);

// A failed request; requests the lost GPU device took with it are not failures (the worker
// rebuilds them on the CPU and says so in the notice).
function showError(e) {
  if (e?.lost) return;
  $('error').textContent = typeof e === 'string' ? e : e.message;
  $('error').hidden = false;
}
onWorkerFailure(showError);

// The page is on the CPU although it asked for WebGPU: say so in plain words, with wgpu's own
// text (e.g. "No adapter available for WgpuDevice { … }") behind a toggle.
function cpuNotice(raw) {
  const plain = document.createElement('span');
  plain.className = 'notice-text';
  plain.textContent = 'This browser offers no WebGPU, so the page runs on the CPU: everything works, only more slowly.';
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'details';
  const code = document.createElement('code');
  code.textContent = raw;
  details.append(summary, code);
  $('notice').replaceChildren(plain, details);
  $('notice').hidden = false;
}

// The data panel's picture of x₀ (the drawing canvas takes its place for drawn data).
function showData(x) {
  drawPoints($('data-canvas'), [{ points: x, color: 'rgba(66,66,66,0.45)', size: 2 }]);
}

const stateNotes = [];
function stateNotice(msg) {
  stateNotes.push(msg);
  $('state-notice').textContent = stateNotes.join(' · ');
  $('state-notice').hidden = false;
}

// The state, read from the hash once the catalogue has given the schema its science (main).
let state = null;
let PROCESS_KEYS = new Set();
const save = () => writeHash(state);

// The catalogue's controls: the choices of process, sampler, score source, objective and named
// data set, and a row of options for each process and sampler.
function buildControls(cat) {
  fillSelect($('process'), cat.processes);
  fillSelect($('sampler'), cat.samplers);
  fillSelect($('isampler'), imageSamplers());
  fillSelect($('source'), cat.sources);
  fillSelect($('train-objective'), cat.objectives);
  const own = [...$('data-select').options];
  fillSelect($('data-select'), cat.datasets);
  $('data-select').append(...own);
  buildOptionRows($('process-options'), 'processes');
  buildOptionRows($('sampler-options'), 'samplers');
  buildOptionRows($('objective-options'), 'objectives');
  buildTrainingControls($('train-k-label'));
  buildGuidanceControls($('guidance-controls'));
  for (const key of ['isteps', 'ieta']) {
    $(key).min = String(SCHEMA[key].min);
    $(key).max = String(SCHEMA[key].max);
  }
}

async function readState() {
  const { catalogue: cat } = await call('catalogue');
  setCatalogue(cat);
  extendSchema(schemaEntries(), cat.datasets.map((d) => d.kind));
  buildControls(cat);
  PROCESS_KEYS = processKeys();
  const parsed = parseHash(location.hash);
  state = parsed.state;
  if (parsed.corrupt) stateNotice(`The URL's settings could not be read (${parsed.corrupt}); using the defaults.`);
  for (const m of parsed.clamped) stateNotice(`Clamped: ${m}.`);
  writeHash(state);
}

const hud = new Hud();
let forward;
let score;
let pair;
let reverse;
let data;
let train;
let images;
let started = false;
// 'points' (the 2-D panels) or 'images'; twoD: the 2-D panels have been set up.
let mode = null;
let twoD = false;
let steps = 1000;
let dataInfo = null;
let modelInfo = '';
let processLabel = '';
// The 2-D panels exist and are on screen.
const pointsShown = () => mode === 'points' && twoD;

function setHelp(on) {
  state.help = on;
  for (const el of document.querySelectorAll('.help')) el.hidden = !on;
  $('help-toggle').setAttribute('aria-pressed', String(on));
  document.body.dataset.help = on ? '1' : '0';
}

function showControl(el, key) {
  if (el.type === 'checkbox') el.checked = state[key];
  else el.value = state[key] === null ? '' : String(state[key]);
}

// The view square holds the data with a margin: 3.5 around a mixture's means, else 1 around
// the farthest point.
function fitView(info) {
  const reach = info.means ? Math.max(...info.means.flat().map(Math.abs)) + 3.5 : info.extent + 1;
  view.half = Math.max(4, Math.ceil(reach));
}

function showModelInfo() {
  $('model-info').textContent = `process: ${processLabel} · ${modelInfo} · data: ${dataInfo?.label ?? '–'}`;
}

// The chosen process's own controls (β schedule and T, or VE's levels) and its message.
function showProcessControls() {
  showOptionRows($('process-options'), state.process);
}

function processMessage(text) {
  $('process-message').textContent = text ?? '';
  $('process-message').hidden = !text;
  document.body.dataset.processMessage = text ? '1' : '';
}

// Scrubber positions past the new T are clamped, with a notice.
function clampTimes(steps) {
  for (const key of ['t', 'st']) {
    if (state[key] > steps) {
      stateNotice(`Clamped: ${key}=${state[key]} is past T = ${steps}; using ${steps}.`);
      state[key] = steps;
    }
  }
  save();
}

// The process changed: the worker switches to it, then every panel follows. A setting it refuses
// (σ_min ≥ σ_max) keeps the previous process, with a message. One change at a time; the latest
// wins. In image mode (or before the 2-D panels exist) only the worker switches; the 2-D panels
// follow when they are shown (pointsStale).
let processBusy = false;
let processAgain = false;
let pointsStale = false;
async function processChanged() {
  showProcessControls();
  if (processBusy) {
    processAgain = true;
    return;
  }
  processBusy = true;
  try {
    do {
      processAgain = false;
      const shown = pointsShown();
      if (shown) {
        await reverse.stop(); // its sampler walks the old process
        pair.stop();
      }
      let r;
      try {
        r = await call('setProcess', { config: processConfig(state) });
      } catch (e) {
        if (e.lost) return;
        processMessage(`${e.message} — the panels keep ${processLabel}.`);
        if (shown) reverse.restart().catch(showError);
        continue;
      }
      processMessage(null);
      processLabel = r.label;
      steps = r.steps;
      showModelInfo();
      document.body.dataset.processSteps = String(r.steps);
      if (shown) await followProcess();
      else pointsStale = twoD;
    } while (processAgain);
  } finally {
    processBusy = false;
  }
}

// The 2-D panels follow the worker's new process (T steps or levels).
async function followProcess() {
  pointsStale = false;
  clampTimes(steps);
  await forward.setProcess(steps);
  score.setSteps(steps);
  train.markStale();
  await train.checkObjective();
  await redrawData();
  await score.refresh();
  reverse.restart().catch(showError); // runs on
}

// Redraw everything that depends on the data: x₀, the forward views, the reverse panel's
// reference, the score field and the training scatter.
async function redrawData() {
  const { x } = await call('drawData', { n: state.n, seed: state.seed });
  showData(x);
  await reverse.setData(x);
  await forward.reset();
  train.setData(x, dataInfo);
  pair.setData(x, dataInfo);
  return x;
}

// The data panel switched the data set.
async function dataChanged(info) {
  dataInfo = info;
  showModelInfo();
  if (!started || !pointsShown()) return;
  fitView(info);
  reverse.setReference(info);
  train.markStale();
  await train.checkObjective();
  await redrawData();
  await score.refresh();
  reverse.restart(); // runs on; its errors show in the page
}

// What a changed setting does.
async function apply(key) {
  if (key === 'backend') {
    location.reload(); // WebGPU initialises once per page
    return;
  }
  if (key === 'data') {
    if (state.data === 'digits') await enterImages();
    else await enterPoints();
    return;
  }
  if (PROCESS_KEYS.has(key)) {
    await processChanged();
    return;
  }
  if (mode === 'images') {
    await images.apply(key);
    return;
  }
  if (key === 'n' || key === 'seed') {
    await redrawData();
    await reverse.play();
    return;
  }
  if (key === 'objective') {
    train.markStale();
    await train.checkObjective();
  } else if (trainingKeys().has(key) || optionKeys('objectives').has(key)) train.markStale();
  else if (key === 'arrows' || key === 'heat') score.draw();
  else if (key === 'grid') await score.refresh();
  else if (key === 'x0' || key === 'traj') reverse.draw();
  else if (key === 'source') {
    const run = reverse.restart();
    await score.refresh();
    await run;
  } else if (key === 'sampler' || SCHEMA[key] && reverse.optionKeys.has(key)) await reverse.restart();
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
      apply(key).catch(showError);
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

// The process a model was trained on (a ProcessConfig), into the state and its controls.
function setProcessState(config) {
  state.process = config.kind;
  for (const o of entry('processes', config.kind).options) {
    const v = o.key.split('.').reduce((at, k) => at?.[k], config);
    if (v !== undefined) state[`${config.kind}.${o.key}`] = v;
  }
  for (const el of document.querySelectorAll('[data-key]')) if (PROCESS_KEYS.has(el.dataset.key)) showControl(el, el.dataset.key);
}

// A 2-D model dropped or picked is the pretrained score now, on its own process and data.
async function pointsModelLoaded(r) {
  await reverse.stop();
  modelInfo = `dropped model (${r.card.trained_steps} steps)`;
  if (r.dataset && r.dataset !== state.data) {
    state.data = r.dataset;
    showControl($('data-select'), 'data');
  }
  data.show(r.data);
  state.source = 'pretrained';
  showControl($('source'), 'source');
  save();
  // The worker holds the model's data now (its drawn x₀ is gone): redraw first, then follow the
  // model's process, which redraws and restarts the reverse walk again.
  await dataChanged(r.data);
  if (r.process) {
    setProcessState(r.process);
    save();
    await processChanged();
  }
}

// "use in panels": the score and reverse panels follow the network being trained.
async function useTrained() {
  state.source = 'learned';
  $('source').value = 'learned';
  save();
  document.body.dataset.model = 'trained';
  const run = reverse.restart();
  await score.refresh();
  await run;
}

// A fresh network exists (the learned source may have become available), or the one in use
// changed its weights.
async function trainedChanged(fresh) {
  if (state.source !== 'learned') {
    if (fresh) await reverse.syncOptions();
    return;
  }
  if (fresh) reverse.restart().catch(showError); // runs on
  await score.refresh();
}

// The 2-D panels, the first time 2-D data is shown: x₀, the forward cloud, the score field, the
// reverse panel's reference and the training scatter.
async function setup2d() {
  fitView(dataInfo);
  showModelInfo();
  reverse.setReference(dataInfo);
  const { x } = await call('drawData', { n: state.n, seed: state.seed });
  showData(x);
  await forward.setView(pointsView(call), steps);
  await reverse.setData(x);
  await reverse.init();
  await score.init();
  train.init();
  train.setData(x, dataInfo);
  pair.init();
  pair.setData(x, dataInfo);
  await train.checkObjective();
  twoD = true;
}

async function enterImages() {
  if (mode === 'images') return;
  if (twoD) {
    await reverse.stop();
    forward.chainRunning = false;
    pair.stop();
    if (train.playing) train.pause(); // its panel hides: it would only take the worker's time
  }
  mode = 'images';
  document.body.dataset.mode = 'images';
  await images.enter();
}

// Back to 2-D data (or 2-D data chosen at start): the data set in the state, then the panels.
async function enterPoints() {
  const from = mode;
  if (from === 'images') await images.leave();
  mode = 'points';
  document.body.dataset.mode = 'points';
  if (from === 'images' && twoD) await forward.setView(pointsView(call), steps);
  $('sample').disabled = false; // image mode may have left it off (no model)
  await data.apply(); // redraws the 2-D panels when the data changed (dataChanged)
  if (!twoD) await setup2d();
  else if (pointsStale) await followProcess();
  else await reverse.syncOptions();
  if (started) reverse.play();
}

// The worker lost the GPU device and rebuilt the session on the CPU.
onWorkerEvent('fallback', ({ info }) => {
  hud.backend(info);
  document.body.dataset.backend = info.backend;
  $('notice').textContent = info.notice;
  $('notice').hidden = false;
  // `recovered`: 1 once the session is on the CPU, `done` once the panels have restarted there.
  document.body.dataset.recovered = '1';
  train.recovered(info.step);
  dataInfo = info.data;
  const restart = mode === 'images'
    ? images.recovered()
    : twoD ? redrawData().then(() => score.refresh()).then(() => reverse.play()) : Promise.resolve();
  restart.then(() => { document.body.dataset.recovered = 'done'; }, showError);
});
onWorkerEvent('failed', ({ error }) => {
  document.body.dataset.recovered = 'failed';
  showError(error);
});

async function main() {
  await readState();
  setHelp(state.help);
  drawTrajLegend($('traj-ramp'));
  showProcessControls();
  let info;
  try {
    info = await call('init', { backend: state.backend, process: processConfig(state) });
  } catch (e) {
    $('backend').textContent = 'failed';
    showError(`Could not start: ${e.message}`);
    return;
  }
  hud.backend(info);
  document.body.dataset.backend = info.backend;
  if (info.notice) cpuNotice(info.notice);
  steps = info.steps;
  processLabel = info.process;
  if (info.processError) processMessage(`${info.processError} — the panels show ${processLabel}.`);
  clampTimes(steps);
  document.body.dataset.processSteps = String(steps);
  modelInfo = `pretrained ε-MLP (${info.card.trained_steps} steps)`;
  dataInfo = info.data;

  const common = { state, call, steps, onError: showError, onChange: save };
  forward = new ForwardPanel(common);
  score = new ScorePanel(common);
  score.onChange = save;
  pair = new LangevinPair({ state, call, onError: showError });
  reverse = new ReversePanel({ ...common, hud });
  reverse.optionKeys = optionKeys('samplers');
  // The worker drops the running samplers with the old data: stop the reverse loop and the
  // Langevin pair first, and start the reverse loop again where the worker kept the data.
  const shown = () => started && pointsShown();
  data = new DataPanel({
    state,
    call,
    onChange: save,
    onData: dataChanged,
    onBefore: async () => {
      if (!shown()) return;
      pair.stop();
      await reverse.stop();
    },
    onKept: () => { if (shown()) reverse.play().catch(showError); },
  });
  train = new TrainPanel({ state, call, onError: showError, onUse: useTrained, onTrained: trainedChanged });
  images = new ImageMode({ state, call, hud, forward, onError: showError, onChange: save });
  const pointsModel = new PointsModel({ call, onModel: (r) => pointsModelLoaded(r).catch(showError) });
  bindControls();
  pointsModel.init();

  forward.init();
  images.init();
  data.info = dataInfo;
  data.init();
  // The data set in the hash (a bad one leaves the default, with a message).
  if (state.data === 'digits') await enterImages();
  else await enterPoints();
  started = true;
  document.body.dataset.ready = '1';
  if (mode === 'points') reverse.play(); // show the reverse process straight away
}

window.dplay = {
  get state() { return state; },
  get catalogue() { return catalogue(); },
  call,
  get score() { return score; },
  get pair() { return pair; },
  get reverse() { return reverse; },
  get train() { return train; },
  get data() { return data; },
  get images() { return images; },
};
main().catch(showError);
