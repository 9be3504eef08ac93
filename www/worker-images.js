// The worker's image-mode requests: the digits and the default digit model fetched from this
// origin, a model folder's files read here (never on the main thread), and the grid and SDEdit
// walks. Nothing here does math; it forwards to Rust.

const DIGITS_URL = 'data/digits-images.idx.gz';
const DEFAULT_MODEL = 'weights/ddpm_digits';
const CONFIG = 'config.json';
const WEIGHTS = 'diffusion_pytorch_model.safetensors';
const SCHEDULER = 'scheduler_config.json';
// The CPU backend has no adapter limits: one tensor of at most 1 GiB, a quarter of wasm32's
// 4 GiB address space (src/model/unet/memory.rs, DeviceLimits::CPU_CAP).
const CPU_TENSOR_CAP = 2 ** 30;

// The per-buffer limits of the device the models run on: the WebGPU device's own (burn asks for
// the adapter's limits), or the CPU cap.
function setLimits(p, gpuDevice) {
  if (p.backend === 'webgpu' && gpuDevice) {
    p.setDeviceLimits(gpuDevice.limits.maxStorageBufferBindingSize, gpuDevice.limits.maxBufferSize);
  } else {
    p.setDeviceLimits(CPU_TENSOR_CAP, CPU_TENSOR_CAP);
  }
}

function load(p, m) {
  return JSON.parse(p.loadImageModel(m.names, m.config, m.weights, m.scheduler, m.origin, m.batch));
}

// After a lost device: the digits and the model in use, again, on the new Playground.
export function replayImages(p, session) {
  if (!session.images) return;
  setLimits(p, null);
  p.loadDigits(session.images.digits);
  if (session.images.model) load(p, session.images.model);
}

// The default model's files, or null where the folder is not on the server (404).
async function fetchDefault() {
  const get = (f) => fetch(`${DEFAULT_MODEL}/${f}`);
  const config = await get(CONFIG);
  if (config.status === 404) return null;
  if (!config.ok) throw new Error(`cannot load ${DEFAULT_MODEL}/${CONFIG}: HTTP ${config.status}`);
  const [weights, scheduler] = await Promise.all([get(WEIGHTS), get(SCHEDULER)]);
  if (!weights.ok) throw new Error(`cannot load ${DEFAULT_MODEL}/${WEIGHTS}: HTTP ${weights.status}`);
  return {
    names: [CONFIG, WEIGHTS, ...(scheduler.ok ? [SCHEDULER] : [])],
    config: await config.text(),
    weights: new Uint8Array(await weights.arrayBuffer()),
    scheduler: scheduler.ok ? await scheduler.text() : undefined,
  };
}

const base = (path) => path.split('/').pop();
const dir = (path) => path.split('/').slice(0, -1).join('/');

// A dropped or picked folder (or loose files), `[{ file, path }]`, by role. In a diffusers
// pipeline folder the UNet lives in unet/ and the scheduler in scheduler/: the config is the one
// beside the weights.
async function readFiles(files) {
  const names = files.map((f) => f.path);
  const weights = files.find((f) => base(f.path) === WEIGHTS);
  const home = weights ? dir(weights.path) : null;
  const pick = (name) => {
    const all = files.filter((f) => base(f.path) === name);
    return all.find((f) => dir(f.path) === home) ?? all[0];
  };
  const config = pick(CONFIG);
  const scheduler = pick(SCHEDULER);
  return {
    names,
    config: config ? await config.file.text() : undefined,
    weights: weights ? new Uint8Array(await weights.file.arrayBuffer()) : undefined,
    scheduler: scheduler ? await scheduler.file.text() : undefined,
  };
}

function modelInfo(p) {
  const info = p.imageModelInfo();
  return info ? JSON.parse(info) : null;
}

// What the page needs after the model changed.
function state(p) {
  return { model: modelInfo(p), shape: Array.from(p.imageShape()), steps: p.imageNumSteps() };
}

function frame(f, ms) {
  const out = { x: f.x, x0: f.x0Pred, t: f.t, remaining: f.remaining, ms };
  f.free();
  return out;
}

export function imageHandlers(session, gpuDevice) {
  // Load the default model into `p`; null, or why there is none (a missing folder is expected
  // until it is trained). A failure keeps the model in use.
  async function loadDefault(p, batch) {
    const files = await fetchDefault();
    if (!files) return `The default digit model (${DEFAULT_MODEL}/) is not on this server yet.`;
    const m = { ...files, origin: 'the default digit model', batch };
    try {
      load(p, m);
    } catch (e) {
      return `The default digit model could not be used: ${e.message ?? e}`;
    }
    session.images.model = m;
    return null;
  }

  return {
    // Enter image mode: the digits (once), then the default model if the page has none yet.
    // `notice` says why there is no model.
    async imageInit({ batch }, p) {
      if (!session.images) {
        setLimits(p, gpuDevice());
        const r = await fetch(DIGITS_URL);
        if (!r.ok) throw new Error(`cannot load ${DIGITS_URL}: HTTP ${r.status} (./build.sh setup writes it)`);
        const digits = new Uint8Array(await r.arrayBuffer());
        session.images = { digits, count: p.loadDigits(digits), model: null };
      }
      const notice = session.images.model ? null : await loadDefault(p, batch);
      return { ...state(p), notice, digits: session.images.count };
    },
    // The default digit model again (it may have appeared on the server since).
    async loadDefaultImageModel({ batch }, p) {
      const notice = await loadDefault(p, batch);
      return { ...state(p), notice };
    },
    // A folder's files (`[{ file: File, path }]`, read here). A failure leaves the model in use.
    async loadImageFiles({ files, origin, batch }, p) {
      const m = { ...(await readFiles(files)), origin, batch };
      load(p, m);
      session.images.model = m;
      return state(p);
    },
    digit({ i }, p) {
      return { x: p.digit(i) };
    },
    imageTables(_, p) {
      const all = p.imageTables();
      const T = all.length / 3;
      return { alphaBar: all.slice(0, T), snr: all.slice(T, 2 * T), sigma: all.slice(2 * T) };
    },
    async imageForward({ x0, positions, seed }, p) {
      return { x: await p.imageForward(x0, Uint32Array.from(positions), BigInt(seed)) };
    },
    startImageSampler({ spec, guidance, n, seed, init }, p) {
      p.setGuidance(JSON.stringify(guidance));
      return { total: p.startImageSampler(JSON.stringify(spec), n, BigInt(seed), init ?? undefined) };
    },
    startSdedit({ spec, guidance, x0, t0, n, seed }, p) {
      p.setGuidance(JSON.stringify(guidance));
      const [total, start] = p.startSdedit(JSON.stringify(spec), x0, t0, n, BigInt(seed));
      return { total, start };
    },
    async imageSteps({ run, k }, p) {
      const t0 = performance.now();
      const f = await p.imageSteps(run, k);
      return frame(f, performance.now() - t0);
    },
  };
}
