// Reverse panel: any sampler with its own options and a score source (the network trained here,
// the pretrained one, or the exact oracle), animated a batch of steps per frame, with a few
// particle trajectories and, at the end, the recovered mixture weights. Which source can drive
// which sampler on the page's process is Rust's to say (samplerSupport); a choice that cannot run
// gets a message here instead of an error.
import { COLORS, drawPaths, drawPoints } from '../draw.js';
import { showEquation } from '../eq.js';
import { catalogue, entry, showOptionRows, valueOf } from '../catalogue.js';
import { fillWeights } from './weights-table.js';

const $ = (id) => document.getElementById(id);
const TRAJECTORIES = 8;

// The SamplerSpec JSON (src/sampler/spec.rs) for the current state: the chosen sampler with
// its options, by the catalogue.
export function samplerSpec(s) {
  return valueOf('samplers', s.sampler, s);
}

// The sources in the order an unusable one gives way (the catalogue's fallback_rank). The learned
// one has none: it never takes over and is never given up, it waits for training.
const fallback = () => catalogue().sources
  .filter((e) => e.facts.fallback_rank !== null)
  .sort((a, b) => a.facts.fallback_rank - b.facts.fallback_rank)
  .map((e) => e.kind);

export class ReversePanel {
  constructor({ state, call, onError, onChange, hud }) {
    this.state = state;
    this.call = call;
    this.trueWeights = null; // the data's mixture weights, where it is a mixture
    this.blocked = null; // why the chosen source cannot run the chosen sampler, if it cannot
    this.onError = onError;
    this.onChange = onChange;
    this.hud = hud;
    this.data = null;
    this.running = false;
    this.done = false;
    this.frame = null;
    this.total = 0;
    this.paths = [];
  }

  async init() {
    $('sample').disabled = false;
    // The buttons are shared with image mode (panels/image-reverse.js).
    const mine = () => document.body.dataset.mode !== 'images';
    $('sample').addEventListener('click', () => mine() && this.play());
    $('pause').addEventListener('click', () => { if (mine()) this.running = false; });
    await this.syncOptions();
  }

  // The data set changed: its mixture weights, if any.
  setReference(info) {
    this.trueWeights = info.weights;
  }

  // Show the chosen sampler's options and equation; ask which sources can run it here, disable
  // the others, steer away from an unusable pretrained or oracle source, and say why when the
  // chosen one cannot run.
  async syncOptions() {
    const s = this.state;
    showOptionRows($('sampler-options'), s.sampler);
    const chosen = entry('samplers', s.sampler);
    showEquation($('reverse-eq'), chosen.equation);
    $('reverse-eq').title = `${chosen.label}: ${chosen.help} (${chosen.cite})`;
    const why = await this.call('sourceSupport', { spec: samplerSpec(s) });
    for (const option of $('source').options) option.disabled = why[option.value] !== null;
    let note = `· ${entry('sources', s.source).help}`;
    if (why[s.source] && entry('sources', s.source).facts.fallback_rank !== null) {
      const alt = fallback().find((v) => why[v] === null);
      if (alt) {
        note = `· ${entry('sources', alt).label} only: ${why[s.source]}`;
        s.source = alt;
        $('source').value = alt;
        this.onChange();
      }
    }
    this.blocked = why[s.source];
    $('reverse-message').textContent = this.blocked ?? '';
    $('reverse-message').hidden = !this.blocked;
    $('source-note').textContent = this.blocked ? '' : note;
    document.body.dataset.reverseMessage = this.blocked ? '1' : '';
  }

  // New data: stop, forget the run and show the data.
  async setData(x) {
    this.data = x;
    await this.stop();
    drawPoints($('reverse-canvas'), [{ points: x, color: COLORS.data, size: 2 }]);
  }

  // Stop the running loop (if any) and forget its sampler: the next ▶ starts afresh. A loop that
  // is still awaiting the worker sees its generation is stale and drops what it gets.
  async stop() {
    this.gen = (this.gen ?? 0) + 1;
    this.running = false;
    delete document.body.dataset.reverseDone;
    $('weights').hidden = true;
    $('reverse-energy').textContent = '–';
    while (this.loop) await this.loop;
    this.frame = null;
    this.done = false;
    $('sample').textContent = '▶ sample';
  }

  // Any setting changed: start again with it.
  async restart() {
    await this.stop();
    await this.syncOptions();
    return this.play();
  }

  async start() {
    const s = this.state;
    const r = await this.call('startSampler', { spec: samplerSpec(s), source: s.source, n: s.n, seed: s.seed });
    this.total = r.total;
    this.remaining = r.total;
    // x_T, where the trajectories start (zero steps return the current sample).
    const x = (await this.call('sampleSteps', { k: 0 })).x;
    this.paths = Array.from({ length: TRAJECTORIES }, (_, j) => (2 * j + 1 < x.length ? [x[2 * j], x[2 * j + 1]] : []));
    $('step-total').textContent = String(this.total);
    $('step-counter').textContent = '0';
    document.body.dataset.reverseStep = '0';
    document.body.dataset.reverseSampler = s.sampler;
  }

  async play() {
    if (this.running || this.loop || this.blocked) return;
    this.running = true;
    this.loop = this.run(this.gen ?? 0);
    await this.loop;
    this.loop = null;
  }

  async run(gen) {
    const stale = () => gen !== (this.gen ?? 0);
    try {
      if (this.done || !this.frame) {
        this.done = false;
        this.frame = null;
        await this.start();
        if (stale()) return;
      }
      $('pause').disabled = false;
      while (this.running && !this.done) {
        const f = await this.call('sampleSteps', { k: this.state.speed });
        if (stale()) return;
        const taken = this.remaining - f.remaining;
        this.remaining = f.remaining;
        if (taken > 0 && f.ms > 0) this.hud.steps(taken / (f.ms / 1000));
        this.frame = f;
        this.done = f.remaining === 0;
        for (let j = 0; j < this.paths.length && 2 * j + 1 < f.x.length; j++) this.paths[j].push(f.x[2 * j], f.x[2 * j + 1]);
        this.draw();
        await new Promise(requestAnimationFrame);
      }
      if (this.done) await this.showWeights(stale);
    } catch (e) {
      if (!stale()) {
        this.onError(e);
        this.frame = null;
      }
    } finally {
      this.running = false;
      $('pause').disabled = true;
      if (!stale()) $('sample').textContent = this.done ? '↻ sample again' : this.frame ? '▶ resume' : '▶ sample';
    }
  }

  draw() {
    const f = this.frame;
    if (!f) return;
    const canvas = $('reverse-canvas');
    const layers = [{ points: this.data, color: COLORS.data, size: 2 }];
    if (this.state.x0) layers.push({ points: f.x0, color: COLORS.x0, size: 2 });
    layers.push({ points: f.x, color: COLORS.xt, size: 2 });
    drawPoints(canvas, layers);
    if (this.state.traj) drawPaths(canvas, this.paths, '#212121', { progress: (this.total - f.remaining) / this.total });
    const taken = this.total - f.remaining;
    $('step-counter').textContent = String(taken);
    $('t-reverse').textContent = f.remaining === 0 ? '0 (done)' : String(f.t);
    document.body.dataset.reverseStep = String(taken);
  }

  // The finished sample against the data: the energy distance and, for a mixture, the weights.
  async showWeights(stale) {
    const { energy } = await this.call('energyDistance', { x: this.frame.x });
    if (stale()) return;
    $('reverse-energy').textContent = energy.toPrecision(3);
    document.body.dataset.reverseEnergy = String(energy);
    if (!this.trueWeights) {
      document.body.dataset.reverseDone = '1';
      return;
    }
    const { weights } = await this.call('componentWeights', { x: this.frame.x });
    if (stale()) return;
    fillWeights($('weights'), this.trueWeights, weights);
    document.body.dataset.weights = JSON.stringify(Array.from(weights));
    document.body.dataset.reverseDone = '1';
  }
}
