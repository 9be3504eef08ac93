// Image mode (data=digits): the forward panel noises one image, the reverse panel denoises a grid,
// SDEdit edits a guide, and the model panel brings your own UNet. This module decides what x₀ is
// (a real digit, the pad's drawing, or — for a model whose images are not digits — its latest
// sample) and keeps the panels in step when the model changes.
import { guidanceKeys, optionKeys } from './catalogue.js';
import { drawImage } from './imaging.js';
import { Pad, decodePad, encodePad } from './pad.js';
import { ImageReversePanel } from './panels/image-reverse.js';
import { SdeditPanel } from './panels/sdedit.js';
import { ModelPanel } from './panels/image-model.js';

const $ = (id) => document.getElementById(id);
const DIGIT = [1, 28, 28];
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
// Look for the default model again this often while the page has no model at all.
const RETRY_MS = 60_000;

export class ImageMode {
  constructor({ state, call, hud, forward, onError, onChange }) {
    this.state = state;
    this.call = call;
    this.forward = forward;
    this.onError = onError;
    this.onChange = onChange;
    this.ready = false;
    this.model = null;
    this.shape = DIGIT;
    this.steps = 1000;
    this.digits = 0;
    this.digitCache = new Map();
    this.latest = null; // the grid's last finished sample, [c·h·w]
    this.retry = null;
    this.reverse = new ImageReversePanel({
      state, call, hud, onError,
      onSample: (x) => this.sampled(x),
    });
    this.sdedit = new SdeditPanel({
      state, call, onError, onChange,
      guide: () => this.x0(),
      beforeRun: () => this.reverse.player.pause(),
    });
    this.models = new ModelPanel({
      call,
      batch: () => state.igrid ** 2,
      onModel: (r) => this.modelChanged(r),
    });
  }

  init() {
    this.pad = new Pad($('pad-canvas'), { onCommit: (ink) => this.padChanged(ink) });
    this.pad.set(decodePad(this.state.pad));
    $('pad-clear').addEventListener('click', () => this.pad.clear());
    $('pad-undo').addEventListener('click', () => this.pad.undoStroke());
    $('digit-another').addEventListener('click', () => {
      this.state.digit = Math.floor(Math.random() * (this.digits || 10000));
      $('digit').value = String(this.state.digit);
      this.onChange();
      this.apply('digit').catch(this.onError);
    });
    this.reverse.init();
    this.sdedit.init();
    this.models.init();
  }

  // The forward panel's view of one image (panels/forward.js).
  view() {
    return {
      chain: false,
      process: 'vp', // diffusers' DDPMScheduler
      tables: () => this.call('imageTables'),
      fetch: async (ts) => {
        const g = await this.x0();
        this.caption(g);
        if (!g) return null;
        const { x } = await this.call('imageForward', { x0: g.x, positions: ts, seed: this.state.seed });
        const d = g.x.length;
        return ts.map((_, j) => x.subarray(j * d, (j + 1) * d));
      },
      draw: (canvas, x) => drawImage(canvas, x, this.shape),
    };
  }

  caption(g) {
    $('forward-image-caption').textContent = g
      ? `x₀: ${g.label} · one ε for every t (seed ${this.state.seed})`
      : `x₀: this model's images are ${this.shape.join('×')}, not digits: its first sample becomes x₀ once the grid has finished one.`;
    document.body.dataset.imageX0 = g ? g.kind : 'none';
  }

  async digit(i) {
    if (!this.digitCache.has(i)) this.digitCache.set(i, (await this.call('digit', { i })).x);
    return this.digitCache.get(i);
  }

  // x₀ of the forward panel and the SDEdit guide: { x, shape, label, kind } or null.
  async x0() {
    if (!same(this.shape, DIGIT)) {
      return this.latest ? { x: this.latest, shape: this.shape, label: 'the model\'s latest sample', kind: 'sample' } : null;
    }
    if (this.state.x0src === 'pad' && !this.pad.isEmpty()) {
      return { x: this.pad.image(), shape: DIGIT, label: 'your drawing', kind: 'pad' };
    }
    const label = this.state.x0src === 'pad' ? `digit #${this.state.digit} (the pad is empty)` : `digit #${this.state.digit}`;
    return { x: await this.digit(this.state.digit), shape: DIGIT, label, kind: 'digit' };
  }

  sampled(x) {
    const d = this.shape.reduce((a, b) => a * b, 1);
    const fresh = !this.latest;
    this.latest = x.slice(0, d);
    // A model whose images are not digits: its first sample becomes x₀.
    if (fresh && !same(this.shape, DIGIT)) this.refreshX0().catch(this.onError);
  }

  padChanged(ink) {
    this.state.pad = encodePad(ink);
    if (this.state.x0src !== 'pad' && !this.pad.isEmpty()) {
      this.state.x0src = 'pad';
      $('x0src').value = 'pad';
    }
    this.onChange();
    this.refreshX0().catch(this.onError);
  }

  async refreshX0() {
    if (document.body.dataset.mode !== 'images') return;
    await this.forward.reset();
    await this.sdedit.showGuide();
  }

  // Show what the worker reports about the model ({ model, shape, steps }).
  setInfo(r) {
    this.model = r.model;
    this.shape = r.shape;
    this.steps = r.steps;
    this.reverse.setModel(r.model);
    this.sdedit.setModel(r.model, r.steps);
    $('image-model-note').textContent = r.model ? `· ${r.model.origin}` : '· no image model';
  }

  async enter() {
    if (!this.ready) {
      const r = await this.call('imageInit', { batch: this.state.igrid ** 2 });
      this.digits = r.digits;
      this.ready = true;
      this.setInfo(r);
      this.models.show(r.model, false);
      if (r.notice) this.noModel(r.notice);
    }
    this.reverse.syncOptions();
    await this.forward.setView(this.view(), this.steps);
    await this.sdedit.showGuide();
    await this.reverse.restart();
  }

  noModel(notice) {
    this.models.message(`${notice} Drop a diffusers UNet2DModel folder here (or choose one) to sample it; the page uses the default as soon as it exists.`, 'info');
    if (!this.model && !this.retry) {
      this.retry = setTimeout(async () => {
        this.retry = null;
        if (this.model || document.body.dataset.mode !== 'images') return;
        if (!(await this.models.loadDefault())) this.noModel(notice);
      }, RETRY_MS);
    }
  }

  async leave() {
    await this.reverse.stop();
    await this.sdedit.stop();
  }

  // A new model is in use (dropped, picked, or the default).
  async modelChanged(r) {
    const shapeChanged = !same(r.shape, this.shape);
    this.setInfo(r);
    if (shapeChanged) this.latest = null;
    await this.sdedit.stop();
    await this.forward.setView(this.view(), this.steps);
    await this.sdedit.showGuide();
    await this.reverse.restart();
  }

  // A setting changed.
  async apply(key) {
    if (['digit', 'x0src', 'seed'].includes(key)) await this.refreshX0();
    // The grid's sampler: its choice, image mode's steps and η, and the sampler's catalogue options.
    if (['isampler', 'isteps', 'ieta', 'igrid', 'seed'].includes(key) || optionKeys('samplers').has(key) || guidanceKeys().has(key)) await this.reverse.restart();
  }

  // The worker rebuilt the session on the CPU after a lost GPU device.
  async recovered() {
    await this.sdedit.stop();
    await this.forward.setView(this.view(), this.steps);
    await this.reverse.restart();
  }
}
