// The catalogue (src/catalogue.rs, through the worker): every process, objective, score source and
// sampler with its options. The page holds no names, defaults, ranges or equations of its own:
// the state schema, the controls and the JSON sent back to Rust are all made from it here.

let CATALOGUE = null;

export function setCatalogue(c) {
  CATALOGUE = c;
}

export function catalogue() {
  if (!CATALOGUE) throw new Error('the catalogue has not arrived from the worker yet');
  return CATALOGUE;
}

export const entry = (group, kind) => catalogue()[group].find((e) => e.kind === kind);

// The state key of an entry's option: `ddim.steps`, `vp.schedule.steps`.
export const optionKey = (kind, key) => `${kind}.${key}`;

// The control's element id: `opt-ddim-steps`, `opt-vp-schedule-steps`.
export const controlId = (kind, key) => `opt-${kind}-${key}`.replace(/[._]/g, '-');

// The schema of one option (state.js kinds), and the number a control steps by.
export function schemaOf(opt) {
  switch (opt.type) {
    case 'int': return { kind: 'int', min: opt.min, max: opt.max, def: opt.default };
    case 'num': return { kind: 'num', min: opt.min, max: opt.max, def: opt.default };
    case 'optional_num': return { kind: 'optnum', min: opt.min, max: opt.max, def: opt.default };
    case 'choice': return { kind: 'enum', values: opt.values.map((c) => c.value), def: opt.default };
    case 'bool': return { kind: 'bool', def: opt.default };
    default: throw new Error(`unknown option type ${opt.type}`);
  }
}

// Every schema entry the catalogue defines: the choice of process, objective and sampler (the
// first of each is the default), each of their options, and the training run's options.
export function schemaEntries() {
  const c = catalogue();
  const out = {};
  const group = (name, key) => {
    out[key] = { kind: 'enum', values: c[name].map((e) => e.kind), def: c[name][0].kind };
    for (const e of c[name]) for (const o of e.options) out[optionKey(e.kind, o.key)] = schemaOf(o);
  };
  group('processes', 'process');
  group('samplers', 'sampler');
  group('objectives', 'objective');
  // Image mode: the samplers that join a chain at any step (SDEdit), and DDIM's steps and η
  // under image mode's own keys.
  const joins = imageSamplers();
  out.isampler = { kind: 'enum', values: joins.map((e) => e.kind), def: joins.find((e) => e.facts.image_default).kind };
  const ddim = entry('samplers', 'ddim').options;
  out.isteps = schemaOf(ddim.find((o) => o.key === 'steps'));
  out.ieta = schemaOf(ddim.find((o) => o.key === 'eta'));
  out.source = { kind: 'enum', values: c.sources.map((e) => e.kind), def: c.sources[0].kind };
  for (const [name, prefix] of Object.entries(FLAT)) for (const o of c[name]) out[optionKey(prefix, o.key)] = schemaOf(o);
  return out;
}

// The samplers image mode offers: those that join a discrete chain at any step.
export const imageSamplers = () => catalogue().samplers.filter((e) => e.facts.starts_at);

// The state keys of a group's options.
export function optionKeys(group) {
  return new Set(catalogue()[group].flatMap((e) => e.options.map((o) => optionKey(e.kind, o.key))));
}

// The entry's value from the state: `{kind, ...options}`, dotted keys nested
// (`schedule.steps` → `{schedule: {steps}}`).
export function valueOf(group, kind, state) {
  const out = { kind };
  for (const o of entry(group, kind).options) {
    const path = o.key.split('.');
    let at = out;
    for (const p of path.slice(0, -1)) at = at[p] ??= {};
    at[path[path.length - 1]] = state[optionKey(kind, o.key)];
  }
  return out;
}

// `<option>`s for a group's entries.
export function fillSelect(select, items) {
  select.replaceChildren(...items.map(({ kind, label }) => {
    const o = document.createElement('option');
    o.value = kind;
    o.textContent = label;
    return o;
  }));
}

// The label and the control of the option `o` of `kind` (data-key = the state key).
function optionControl(kind, o) {
  const id = controlId(kind, o.key);
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = o.label;
  label.title = o.help;
  let el;
  if (o.type === 'choice') {
    el = document.createElement('select');
    fillSelect(el, o.values.map((v) => ({ kind: v.value, label: v.label })));
  } else if (o.type === 'bool') {
    el = document.createElement('input');
    el.type = 'checkbox';
  } else {
    el = document.createElement('input');
    el.type = 'number';
    el.min = String(o.min);
    el.max = String(o.max);
    el.step = o.type === 'int' ? '1' : 'any';
    if (o.type === 'optional_num') el.placeholder = 'auto';
  }
  el.id = id;
  el.dataset.key = optionKey(kind, o.key);
  el.title = o.help;
  return [label, el];
}

// One `.controls` row per entry holding its options' controls, shown for that entry only
// (data-entry).
export function buildOptionRows(container, group) {
  const rows = catalogue()[group].map((e) => {
    const row = document.createElement('div');
    row.className = 'controls options points-only';
    row.dataset.entry = e.kind;
    row.hidden = true;
    for (const o of e.options) row.append(...optionControl(e.kind, o));
    return row;
  });
  container.replaceChildren(...rows);
}

// A flat group of options of the catalogue under the state keys `${prefix}.${key}`: the training
// run's (`training`, Rust's TrainOptions: `train.hidden`, `train.batch_size`, …) and a
// class-conditional image model's label and guidance (`guidance`, Rust's
// model::guidance::Guidance: `guide.label`, `guide.scale`, …).
const FLAT = { training: 'train', guidance: 'guide' };

const flatControls = (name) => catalogue()[name].flatMap((o) => optionControl(FLAT[name], o));
const flatKeys = (name) => new Set(catalogue()[name].map((o) => optionKey(FLAT[name], o.key)));
// The group's value (a TrainOptions or Guidance) from the state.
const flatValue = (name, state) =>
  Object.fromEntries(catalogue()[name].map((o) => [o.key, state[optionKey(FLAT[name], o.key)]]));

// The training controls, inserted before `before`; the guidance controls, appended to `container`.
export const buildTrainingControls = (before) => before.before(...flatControls('training'));
export const buildGuidanceControls = (container) => container.append(...flatControls('guidance'));
export const trainingKeys = () => flatKeys('training');
export const guidanceKeys = () => flatKeys('guidance');
export const trainingOptions = (state) => flatValue('training', state);
export const guidanceOptions = (state) => flatValue('guidance', state);

// Show the rows of `kind` only.
export function showOptionRows(container, kind) {
  for (const row of container.querySelectorAll('[data-entry]')) row.hidden = row.dataset.entry !== kind;
}
