// The compute side of the page: owns the wasm Playground and answers the main thread's requests
// one at a time. Nothing here does math; it forwards to Rust and ships arrays back.
//
// WebGPU device loss: the worker keeps what it needs to rebuild the session (the model files, the
// data choice, the training config and the latest training weights, read back after every batch
// of steps on WebGPU) and, when the GPUDevice reports `lost`, rebuilds it on the CPU backend and
// tells the page with a `fallback` event.
import init, { Playground, catalogue as catalogueJson, modelFileRoles } from './pkg/diffusion_playground.js';
import { imageHandlers, replayImages } from './worker-images.js';

// The catalogue (src/catalogue.rs): among the rest, the model shipped for each named data set
// (`./build.sh weights`), fetched when the set is chosen; the first set's is loaded at start.
let catalogue = null;
const pretrainedDir = (name) => catalogue.datasets.find((d) => d.kind === name)?.weights;

async function fetchModel(dir) {
  const [w, c] = await Promise.all([
    fetchOk(`${dir}/model.safetensors`).then((r) => r.arrayBuffer()),
    fetchOk(`${dir}/config.json`).then((r) => r.text()),
  ]);
  return [new Uint8Array(w), c];
}
let pg = null;

// Everything needed to rebuild the session on another backend.
const session = {
  model: null, // [weights Uint8Array, config text]
  dropped: null, // the loadModelFiles arguments of a dropped 2-D model
  process: null, // the setProcess config (JSON text)
  data: null, // ['setDataset', name] | ['setPoints', Float32Array] | ['setCsv', text, name]
  train: null, // the startTraining config (JSON text)
  checkpoint: null, // { weights: Uint8Array, step } of the training run, on WebGPU
  images: null, // image mode: { digits: Uint8Array, model: the loadImageModel arguments | null }
};

// The GPUDevice that wgpu asks for, so that its loss is noticed (and, for the page tests, can be
// caused: `loseDevice` destroys it, which is what a driver reset looks like to the page).
let gpuDevice = null;
let lostReason = null;
if (self.GPUAdapter?.prototype?.requestDevice) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    gpuDevice = device;
    device.lost.then((info) => {
      if (device === gpuDevice) onDeviceLost(info.message || info.reason || 'unknown reason');
    });
    return device;
  };
}

async function fetchOk(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot load ${url}: HTTP ${r.status}`);
  return r;
}

async function adapterInfo() {
  if (!('gpu' in navigator)) return null;
  try {
    const a = await navigator.gpu.requestAdapter();
    if (!a) return null;
    const i = a.info ?? {};
    return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' · ') || 'unnamed adapter';
  } catch {
    return null;
  }
}

function dataInfo(p) {
  return JSON.parse(p.dataInfo());
}

// The CPU takes over in a fresh instance of the module, built from the compiled one: a panic on
// the dead device (cubecl's error handler aborts) can strand the old instance's futures and leave
// its locks held, and nothing in it is needed any more.
async function freshModule() {
  const m = await import('./pkg/diffusion_playground.js?instance=fallback');
  await m.default({ module_or_path: compiled });
  return m;
}

// The module, compiled once (while it downloads) for the first instance and any fresh one.
let compiled = null;
async function compileModule() {
  const url = new URL('./pkg/diffusion_playground_bg.wasm', import.meta.url);
  try {
    return await WebAssembly.compileStreaming(fetchOk(url));
  } catch (e) {
    if (!(e instanceof TypeError)) throw e; // a host that sends wasm with another MIME type
    return WebAssembly.compile(await (await fetchOk(url)).arrayBuffer());
  }
}

// The loadModelFiles arguments for dropped or picked files `[{ file, path }]`: the files Rust
// names for each role (modelFileRoles) read, with every name for messages.
async function modelFiles(files, origin) {
  const names = files.map((f) => f.path);
  const roles = JSON.parse(modelFileRoles(names));
  const [zip, config, weights] = [roles.zip, roles.config, roles.weights].map((i) => (i === null ? undefined : files[i]));
  return [
    names,
    config ? await config.file.text() : undefined,
    weights ? new Uint8Array(await weights.file.arrayBuffer()) : undefined,
    zip ? new Uint8Array(await zip.file.arrayBuffer()) : undefined,
    origin,
  ];
}

// Replay the session onto a fresh Playground `p` (after a lost device).
async function rebuild(p) {
  p.loadModel(...session.model);
  if (session.dropped) p.loadModelFiles(...session.dropped);
  if (session.process) p.setProcess(session.process);
  if (session.data) p[session.data[0]](...session.data.slice(1));
  if (session.train) {
    p.startTraining(session.train);
    if (session.checkpoint) p.restoreTraining(session.checkpoint.weights, session.checkpoint.step);
  }
  replayImages(p, session, gpuDevice);
}

// The page's process; the session keeps it only once it took.
function applyProcess(p, config) {
  const text = JSON.stringify(config);
  const steps = p.setProcess(text);
  session.process = text;
  return { steps, label: p.processLabel() };
}

async function report(p, { evalSeed, n, steps, seed }) {
  const evalLoss = await p.evalLoss(BigInt(evalSeed));
  const x = await p.trainSamples(n, steps, BigInt(seed));
  const info = dataInfo(p);
  return {
    step: p.trainedSteps(),
    evalLoss,
    x,
    energy: p.energyDistance(x),
    weights: info.kind === 'mixture' ? p.componentWeights(x) : null,
  };
}

// The module, instantiated once (the catalogue needs no device).
async function loadModule() {
  if (compiled) return;
  compiled = await compileModule();
  await init({ module_or_path: compiled });
  catalogue = JSON.parse(catalogueJson());
}

const handlers = {
  async catalogue() {
    await loadModule();
    return { catalogue };
  },
  async init({ backend, process }) {
    await loadModule();
    pg = await Playground.create(backend);
    session.model = await fetchModel(catalogue.datasets[0].weights);
    pg.loadModel(...session.model);
    let processError = null;
    if (process) {
      try {
        applyProcess(pg, process);
      } catch (e) {
        processError = String(e?.message ?? e);
      }
    }
    return {
      backend: pg.backend,
      notice: pg.notice ?? null,
      adapter: pg.backend === 'webgpu' ? await adapterInfo() : null,
      steps: pg.numSteps(),
      process: pg.processLabel(),
      processError,
      card: JSON.parse(pg.modelCard()),
      data: dataInfo(pg),
    };
  },
  setProcess({ config }, p) {
    return applyProcess(p, config);
  },
  // The data sets. A failure leaves the previous data in place.
  // A named data set brings its pretrained model: the "learned" score of the panels.
  async setDataset({ name }, p) {
    p.setDataset(name);
    session.data = ['setDataset', name];
    session.dropped = null;
    const dir = pretrainedDir(name);
    if (dir) {
      const model = await fetchModel(dir);
      p.loadModel(...model);
      session.model = model;
    }
    return { data: dataInfo(p), card: JSON.parse(p.modelCard()) };
  },
  // A 2-D model folder (or its .zip) dropped or picked: the files by role, checked in Rust.
  async loadPointsModel({ files, origin }, p) {
    const args = await modelFiles(files, origin);
    const r = JSON.parse(p.loadModelFiles(...args));
    session.dropped = args;
    return { ...r, data: dataInfo(p), card: JSON.parse(p.modelCard()) };
  },
  setPoints({ points }, p) {
    p.setPoints(points);
    session.data = ['setPoints', points.slice()];
    return { data: dataInfo(p) };
  },
  setCsv({ text, name }, p) {
    p.setCsv(text, name);
    session.data = ['setCsv', text, name];
    return { data: dataInfo(p) };
  },
  drawData({ n, seed }, p) {
    return { x: p.drawData(n, BigInt(seed)) };
  },
  async forwardAt({ t }, p) {
    return { x: await p.forwardAt(t), t };
  },
  async chainSteps({ k, seed }, p) {
    const x = await p.chainSteps(k, BigInt(seed));
    return { x, t: p.chainStep() };
  },
  startSampling({ n, seed }, p) {
    p.startSampling(n, BigInt(seed));
    return {};
  },
  startSampler({ spec, source, n, seed }, p) {
    return { total: p.startSampler(JSON.stringify(spec), source, n, BigInt(seed)) };
  },
  // Why each score source cannot run `spec` here (null where it can).
  sourceSupport({ spec }, p) {
    const text = JSON.stringify(spec);
    const out = {};
    for (const { kind } of catalogue.sources) out[kind] = p.samplerSupport(text, kind) ?? null;
    return out;
  },
  async sampleSteps({ k }, p) {
    const t0 = performance.now();
    const f = await p.sampleSteps(k);
    const out = { x: f.x, x0: f.x0Pred, t: f.t, remaining: f.remaining, ms: performance.now() - t0 };
    f.free();
    return out;
  },
  // The score panel's Langevin and annealed Langevin, side by side on the oracle.
  startComparison({ specs, n, seed }, p) {
    return { totals: Array.from(p.startComparison(JSON.stringify(specs), n, BigInt(seed))) };
  },
  async comparisonSteps({ ks }, p) {
    const f = await p.comparisonSteps(Uint32Array.from(ks));
    const out = { x: f.x, remaining: Array.from(f.remaining), weights: f.weights };
    f.free();
    return out;
  },
  componentWeights({ x }, p) {
    return { weights: p.componentWeights(x) };
  },
  energyDistance({ x }, p) {
    return { energy: p.energyDistance(x) };
  },
  forwardTables(_, p) {
    const all = p.forwardTables();
    const T = all.length / 3;
    return { alphaBar: all.slice(0, T), snr: all.slice(T, 2 * T), sigma: all.slice(2 * T) };
  },
  async forwardMany({ ts }, p) {
    const out = {};
    for (const t of ts) out[`t${t}`] = await p.forwardAt(t);
    return out;
  },
  async scoreField({ t, size, halfWidth, source }, p) {
    const f = await p.scoreField(t, size, halfWidth, source);
    const out = {
      points: f.points, logP: f.logP, trueScore: f.trueScore, learnedScore: f.learnedScore, error: f.error,
      note: f.note ?? null,
    };
    f.free();
    return out;
  },
  // Training: a fresh run, `k` steps per request, and a report (fixed-batch loss, samples from the
  // network being trained, their distance to the data).
  async startTraining({ config, report: r }, p) {
    const text = JSON.stringify(config);
    p.startTraining(text);
    session.train = text;
    session.checkpoint = null;
    return report(p, r);
  },
  objectiveSupport({ objective }, p) {
    return { reason: p.objectiveSupport(objective) ?? null };
  },
  async trainSteps({ k }, p) {
    const t0 = performance.now();
    const loss = await p.trainSteps(k);
    const ms = performance.now() - t0;
    // Keep the weights off the GPU: a lost device takes them with it.
    if (p.backend === 'webgpu') session.checkpoint = { weights: await p.trainWeights(), step: p.trainedSteps() };
    return { loss, step: p.trainedSteps(), ms };
  },
  // The run as one .zip (Rust's bundle::run_archive).
  async exportRun({ n, steps, seed }, p) {
    return { zip: await p.exportRun(n, steps, BigInt(seed)) };
  },
  async trainReport(args, p) {
    return report(p, args);
  },
  async evalLoss({ seed }, p) {
    return { loss: await p.evalLoss(BigInt(seed)), step: p.trainedSteps() };
  },
  // Test hook: lose the WebGPU device as a driver reset would, and hear of it at once. Chromium
  // settles `device.lost` only after the GPU process has worked through everything queued before
  // the destroy (SwiftShader's kernel compiles: minutes on a loaded machine), and until then the
  // requests that reach the dead device fail as if they were ordinary errors.
  loseDevice(_args, _p, id) {
    if (!gpuDevice || pg.backend !== 'webgpu') throw new Error('there is no WebGPU device to lose');
    gpuDevice.destroy();
    onDeviceLost('destroyed', id);
    return {};
  },
  async bench({ n, steps }, p) {
    return { stepsPerSec: await p.bench(n, steps) };
  },
  async benchTrain({ config, steps }, p) {
    return { stepsPerSec: await p.benchTrain(JSON.stringify(config), steps) };
  },
  ...imageHandlers(session, () => gpuDevice),
};

// One request at a time: the Playground's async methods borrow it across awaits, so a second
// call must wait for the first to finish.
let queue = Promise.resolve();
// Requests received and not yet answered; after a lost device they are answered as lost.
const open = new Set();
const abandoned = new Set();
// Requests up to this id were sent before the page heard of the CPU fallback: they may rely on
// state the lost device took (a running sampler, drawn data), so their errors count as lost.
let lastIdBeforeFallback = -1;
let lastId = -1;

self.onmessage = (e) => {
  lastId = Math.max(lastId, e.data.id);
  open.add(e.data.id);
  queue = queue.then(() => handle(e.data));
};

function transferables(result) {
  return Object.values(result ?? {}).filter((v) => v instanceof Float32Array).map((v) => v.buffer);
}

async function handle({ id, cmd, args }) {
  if (abandoned.delete(id)) return;
  const p = pg;
  try {
    const result = await handlers[cmd](args ?? {}, p, id);
    if (abandoned.delete(id)) return;
    self.postMessage({ id, ok: true, result }, transferables(result));
  } catch (err) {
    if (abandoned.delete(id)) return;
    const lost = lostReason !== null && (p !== pg || id <= lastIdBeforeFallback);
    self.postMessage({ id, ok: false, error: String(err?.message ?? err), lost });
  } finally {
    open.delete(id);
  }
}

// The device is gone: every open request (but `answered`, the one reporting the loss) is answered
// as lost (one may never finish), and the session is rebuilt on the CPU before any later request
// runs.
function onDeviceLost(reason, answered = null) {
  if (lostReason !== null || !pg || pg.backend !== 'webgpu') return;
  lostReason = reason;
  const lostIds = [...open].filter((id) => id !== answered);
  for (const id of lostIds) abandoned.add(id);
  queue = (async () => {
    try {
      const cpu = await (await freshModule()).Playground.create('flex');
      await rebuild(cpu);
      pg = cpu;
      const step = session.checkpoint?.step ?? 0;
      lastIdBeforeFallback = lastId;
      self.postMessage({
        event: 'fallback',
        lostIds,
        info: {
          backend: pg.backend,
          adapter: null,
          notice: `The WebGPU device was lost (${reason}); continuing on the CPU`
            + (session.train ? ` with the trained weights from step ${step}.` : '.'),
          step,
          data: dataInfo(pg),
        },
      });
    } catch (err) {
      self.postMessage({ event: 'failed', lostIds, error: `the GPU device was lost and the CPU could not take over: ${err?.message ?? err}` });
    }
  })();
}
