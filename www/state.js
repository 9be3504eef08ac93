// Declarative page state (TF Playground style): every control is one key of the URL hash.
// parseHash never throws: a hash it cannot read gives the defaults and a reason; numbers outside
// their range are clamped, each with a message.

// kind: 'int' | 'num' | 'enum' | 'bool' | 'points' | 'pad'; min/max for numbers, values for enums.
export const SCHEMA = {
  backend: { kind: 'enum', values: ['auto', 'webgpu', 'flex'], def: 'auto' },
  n: { kind: 'int', min: 100, max: 20000, def: 2000 },
  seed: { kind: 'int', min: 0, max: 2147483647, def: 0 },
  speed: { kind: 'int', min: 1, max: 200, def: 10 },
  help: { kind: 'bool', def: false },
  // forward panel
  t: { kind: 'int', min: 0, max: 1000, def: 0 },
  // the process (www/process.js): VP or sub-VP on a β schedule with T steps, or VE with L levels
  process: { kind: 'enum', values: ['vp', 'sub_vp', 've'], def: 'vp' },
  schedule: { kind: 'enum', values: ['linear', 'cosine'], def: 'linear' },
  T: { kind: 'int', min: 2, max: 1000, def: 1000 },
  L: { kind: 'int', min: 2, max: 100, def: 10 },
  veMin: { kind: 'num', min: 0.001, max: 10, def: 0.1 },
  veMax: { kind: 'num', min: 0.1, max: 100, def: 20 },
  // score panel
  st: { kind: 'int', min: 1, max: 1000, def: 50 },
  arrows: { kind: 'enum', values: ['learned', 'true', 'both'], def: 'learned' },
  heat: { kind: 'enum', values: ['density', 'error'], def: 'density' },
  grid: { kind: 'int', min: 11, max: 61, def: 31 },
  // reverse panel
  sampler: { kind: 'enum', values: ['ancestral', 'ddim', 'langevin', 'annealed', 'em', 'pc', 'ode'], def: 'ancestral' },
  source: { kind: 'enum', values: ['pretrained', 'learned', 'oracle'], def: 'pretrained' },
  variance: { kind: 'enum', values: ['beta_tilde', 'beta'], def: 'beta_tilde' },
  ddimSteps: { kind: 'int', min: 1, max: 1000, def: 50 },
  eta: { kind: 'num', min: 0, max: 1, def: 0 },
  spacing: { kind: 'enum', values: ['leading', 'trailing', 'linspace'], def: 'leading' },
  lSteps: { kind: 'int', min: 1, max: 5000, def: 500 },
  lStep: { kind: 'num', min: 1e-5, max: 1, def: 0.05 },
  levels: { kind: 'int', min: 2, max: 50, def: 10 },
  perLevel: { kind: 'int', min: 1, max: 500, def: 50 },
  aStep: { kind: 'num', min: 1e-6, max: 0.1, def: 0.005 },
  sigmaMin: { kind: 'num', min: 0.01, max: 1, def: 0.1 },
  sdeSteps: { kind: 'int', min: 1, max: 2000, def: 500 },
  sde: { kind: 'enum', values: ['vp', 'sub_vp', 've'], def: 'vp' },
  snr: { kind: 'num', min: 0.001, max: 1, def: 0.16 },
  corrector: { kind: 'int', min: 0, max: 10, def: 1 },
  ode: { kind: 'enum', values: ['heun', 'euler'], def: 'heun' },
  odeSteps: { kind: 'int', min: 1, max: 2000, def: 100 },
  x0: { kind: 'bool', def: false },
  traj: { kind: 'bool', def: true },
  // data panel: a named set, or drawn points (pts, see points.js), or a CSV file (not in the hash)
  data: {
    kind: 'enum',
    values: ['mixture3', 'seeds', 'moons', 'swiss-roll', 'rings', 'checkerboard', '8gaussians', 'draw', 'csv', 'digits'],
    def: 'mixture3',
  },
  pts: { kind: 'points', def: '' },
  // image mode (data=digits): the forward panel's x₀ (a digit by index, or the 28×28 pad, in the
  // hash as `pad`, see pad.js), the samplers of the grid and of SDEdit, and SDEdit's t₀. A dropped
  // model is not in the hash: a reload returns to the default digit model.
  digit: { kind: 'int', min: 0, max: 9999, def: 0 },
  x0src: { kind: 'enum', values: ['digit', 'pad'], def: 'digit' },
  pad: { kind: 'pad', def: '' },
  isampler: { kind: 'enum', values: ['ddim', 'ancestral'], def: 'ddim' },
  isteps: { kind: 'int', min: 1, max: 1000, def: 50 },
  ieta: { kind: 'num', min: 0, max: 1, def: 0 },
  igrid: { kind: 'int', min: 1, max: 6, def: 4 },
  ispeed: { kind: 'int', min: 1, max: 50, def: 1 },
  t0: { kind: 'int', min: 1, max: 999, def: 500 },
  // training panel
  objective: { kind: 'enum', values: ['ddpm', 'ncsn', 'dsm', 'ssm', 'ism', 'esm'], def: 'ddpm' },
  width: { kind: 'int', min: 4, max: 512, def: 128 },
  depth: { kind: 'int', min: 1, max: 8, def: 3 },
  lr: { kind: 'num', min: 1e-5, max: 0.1, def: 0.002 },
  batch: { kind: 'int', min: 8, max: 4096, def: 256 },
  iters: { kind: 'int', min: 10, max: 100000, def: 2000 },
  tseed: { kind: 'int', min: 0, max: 2147483647, def: 0 },
  tk: { kind: 'int', min: 1, max: 100, def: 5 },
};

// Drawn points: base64url, 4 characters a point (points.js), at most 2000 points.
const POINTS_RE = /^(?:[A-Za-z0-9_-]{4}){0,2000}$/;
// The 28×28 pad: 523 base64url characters (pad.js), or empty.
const PAD_RE = /^(?:[A-Za-z0-9_-]{523})?$/;

export function defaults() {
  return Object.fromEntries(Object.entries(SCHEMA).map(([k, s]) => [k, s.def]));
}

// One value from its hash text: { value } or { error } (unreadable) with { clamped } when a
// readable number was out of range.
export function parseValue(key, text) {
  const s = SCHEMA[key];
  if (!s) return { error: `unknown setting "${key}"` };
  if (s.kind === 'enum') {
    return s.values.includes(text) ? { value: text } : { error: `${key}=${text} is not one of ${s.values.join(', ')}` };
  }
  if (s.kind === 'points') {
    return POINTS_RE.test(text) ? { value: text } : { error: `${key} is not a list of drawn points` };
  }
  if (s.kind === 'pad') {
    return PAD_RE.test(text) ? { value: text } : { error: `${key} is not a 28×28 drawing` };
  }
  if (s.kind === 'bool') {
    if (text === '1' || text === 'true') return { value: true };
    if (text === '0' || text === 'false') return { value: false };
    return { error: `${key}=${text} is not 0 or 1` };
  }
  const v = text.trim() === '' ? NaN : Number(text);
  if (Number.isNaN(v)) return { error: `${key}=${text} is not a number` };
  let x = s.kind === 'int' && Number.isFinite(v) ? Math.round(v) : v;
  if (x < s.min || x > s.max || !Number.isFinite(x)) {
    const c = Math.min(Math.max(x, s.min), s.max);
    return { value: c, clamped: `${key}=${text} is out of range [${s.min}, ${s.max}]; using ${c}` };
  }
  return { value: x };
}

// The state in a hash, with the reason it could not be read (then all defaults) and the
// clamping messages.
export function parseHash(hash) {
  const state = defaults();
  const clamped = [];
  let raw;
  try {
    raw = decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    return { state, corrupt: 'the URL hash is not valid percent-encoding', clamped };
  }
  if (raw.trim() === '') return { state, corrupt: null, clamped };
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return { state: defaults(), corrupt: `"${part}" is not key=value`, clamped: [] };
    const key = part.slice(0, eq);
    const r = parseValue(key, part.slice(eq + 1));
    if (r.error) return { state: defaults(), corrupt: r.error, clamped: [] };
    state[key] = r.value;
    if (r.clamped) clamped.push(r.clamped);
  }
  return { state, corrupt: null, clamped };
}

// The canonical hash: every non-default value, in schema order.
export function formatHash(state) {
  const parts = [];
  for (const [k, s] of Object.entries(SCHEMA)) {
    const v = state[k];
    if (v === s.def) continue;
    parts.push(`${k}=${s.kind === 'bool' ? (v ? 1 : 0) : encodeURIComponent(String(v))}`);
  }
  return parts.join('&');
}

export function writeHash(state) {
  const h = formatHash(state);
  history.replaceState(null, '', h ? `#${h}` : location.pathname + location.search);
}
