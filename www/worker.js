// The compute side of the page: owns the wasm Playground and answers the main thread's requests
// one at a time. Nothing here does math; it forwards to Rust and ships arrays back.
import init, { Playground } from './pkg/diffusion_playground.js';

const MODEL_DIR = 'weights/ddpm_mixture';
let pg = null;

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

const handlers = {
  async init({ backend }) {
    await init();
    pg = await Playground.create(backend);
    const [w, c] = await Promise.all([
      fetchOk(`${MODEL_DIR}/model.safetensors`).then((r) => r.arrayBuffer()),
      fetchOk(`${MODEL_DIR}/config.json`).then((r) => r.text()),
    ]);
    pg.loadModel(new Uint8Array(w), c);
    return {
      backend: pg.backend,
      notice: pg.notice ?? null,
      adapter: pg.backend === 'webgpu' ? await adapterInfo() : null,
      steps: pg.numSteps(),
      card: JSON.parse(pg.modelCard()),
    };
  },
  drawData({ n, seed }) {
    return { x: pg.drawData(n, BigInt(seed)) };
  },
  async forwardAt({ t }) {
    return { x: await pg.forwardAt(t), t };
  },
  async chainSteps({ k, seed }) {
    const x = await pg.chainSteps(k, BigInt(seed));
    return { x, t: pg.chainStep() };
  },
  startSampling({ n, seed }) {
    pg.startSampling(n, BigInt(seed));
    return {};
  },
  startSampler({ spec, source, n, seed }) {
    return { total: pg.startSampler(JSON.stringify(spec), source, n, BigInt(seed)) };
  },
  async sampleSteps({ k }) {
    const t0 = performance.now();
    const f = await pg.sampleSteps(k);
    const out = { x: f.x, x0: f.x0Pred, t: f.t, remaining: f.remaining, ms: performance.now() - t0 };
    f.free();
    return out;
  },
  componentWeights({ x }) {
    return { weights: pg.componentWeights(x) };
  },
  forwardTables() {
    const all = pg.forwardTables();
    const T = all.length / 3;
    return { alphaBar: all.slice(0, T), snr: all.slice(T, 2 * T), sigma: all.slice(2 * T) };
  },
  async forwardMany({ ts }) {
    const out = {};
    for (const t of ts) out[`t${t}`] = await pg.forwardAt(t);
    return out;
  },
  async scoreField({ t, size, halfWidth }) {
    const f = await pg.scoreField(t, size, halfWidth);
    const out = {
      points: f.points, logP: f.logP, trueScore: f.trueScore, learnedScore: f.learnedScore, error: f.error,
    };
    f.free();
    return out;
  },
  async bench({ n, steps }) {
    return { stepsPerSec: await pg.bench(n, steps) };
  },
};

// One request at a time: the Playground's async methods borrow it across awaits, so a second
// call must wait for the first to finish.
let queue = Promise.resolve();
self.onmessage = (e) => {
  queue = queue.then(() => handle(e.data));
};

async function handle({ id, cmd, args }) {
  try {
    const result = await handlers[cmd](args ?? {});
    const transfer = Object.values(result).filter((v) => v instanceof Float32Array).map((v) => v.buffer);
    self.postMessage({ id, ok: true, result }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err?.message ?? err) });
  }
}
