// Declarative page state (TF Playground style): every control is one key of the URL hash.
// parseHash never throws: a hash it cannot read gives the defaults and a reason; numbers outside
// their range are clamped, each with a message.

// kind: 'int' | 'num' | 'optnum' (a number or null: empty in the hash) | 'enum' | 'bool' | 'points'
// | 'pad'; min/max for numbers, values for enums.
export const SCHEMA = {
  backend: { kind: 'enum', values: ['auto', 'webgpu', 'flex'], def: 'auto' },
  n: { kind: 'int', min: 100, max: 20000, def: 2000 },
  seed: { kind: 'int', min: 0, max: 2147483647, def: 0 },
  speed: { kind: 'int', min: 1, max: 200, def: 10 },
  help: { kind: 'bool', def: false },
  // forward panel
  t: { kind: 'int', min: 0, max: 1000, def: 0 },
  // the process, the sampler, the score source and the objective, with their options: from the
  // catalogue (extendSchema)
  // score panel
  st: { kind: 'int', min: 1, max: 1000, def: 50 },
  arrows: { kind: 'enum', values: ['learned', 'true', 'both'], def: 'learned' },
  heat: { kind: 'enum', values: ['density', 'error'], def: 'density' },
  grid: { kind: 'int', min: 11, max: 61, def: 31 },
  // reverse panel
  x0: { kind: 'bool', def: false },
  traj: { kind: 'bool', def: true },
  // data panel: a named set, or drawn points (pts, see points.js), or a CSV file (not in the hash)
  // (the named sets come from the catalogue, extendSchema; these are the page's own sources)
  data: { kind: 'enum', values: ['draw', 'csv', 'digits'], def: 'draw' },
  pts: { kind: 'points', def: '' },
  // image mode (data=digits): the forward panel's x₀ (a digit by index, or the 28×28 pad, in the
  // hash as `pad`, see pad.js) and SDEdit's t₀; the samplers of the grid and of SDEdit (isampler,
  // isteps, ieta) come from the catalogue (extendSchema). A dropped
  // model is not in the hash: a reload returns to the default digit model.
  digit: { kind: 'int', min: 0, max: 9999, def: 0 },
  x0src: { kind: 'enum', values: ['digit', 'pad'], def: 'digit' },
  pad: { kind: 'pad', def: '' },
  igrid: { kind: 'int', min: 1, max: 6, def: 4 },
  ispeed: { kind: 'int', min: 1, max: 50, def: 1 },
  t0: { kind: 'int', min: 1, max: 999, def: 500 },
  // training panel: the run's options come from the catalogue (extendSchema); tk is the page's
  // pacing, optimiser steps per message to the worker
  tk: { kind: 'int', min: 1, max: 100, def: 5 },
};

// Drawn points: base64url, 4 characters a point (points.js), at most 2000 points.
const POINTS_RE = /^(?:[A-Za-z0-9_-]{4}){0,2000}$/;
// The 28×28 pad: 523 base64url characters (pad.js), or empty.
const PAD_RE = /^(?:[A-Za-z0-9_-]{523})?$/;

// The catalogue's part of the schema (catalogue.js), added once it arrives and before the hash is
// read; the named data sets go before the page's own sources, the first of them the default.
export function extendSchema(entries, datasets) {
  Object.assign(SCHEMA, entries);
  SCHEMA.data = { kind: 'enum', values: [...datasets, ...SCHEMA.data.values], def: datasets[0] };
}

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
  if (s.kind === 'optnum' && text.trim() === '') return { value: null };
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
    const text = s.kind === 'bool' ? (v ? 1 : 0) : v === null ? '' : encodeURIComponent(String(v));
    parts.push(`${k}=${text}`);
  }
  return parts.join('&');
}

export function writeHash(state) {
  const h = formatHash(state);
  history.replaceState(null, '', h ? `#${h}` : location.pathname + location.search);
}
