// SDEdit panel: the guide (the forward panel's x₀: a digit, your drawing, or a model's own
// sample) noised to the sampler's first step at or below t₀, then denoised, four copies at once,
// animated like the grid.
import { drawGrid, drawImage, drawMessage } from '../imaging.js';
import { ImagePlayer } from './image-player.js';
import { imageSpec } from './image-reverse.js';
import { guidanceOptions } from '../catalogue.js';

const $ = (id) => document.getElementById(id);
const COPIES = 4;

export class SdeditPanel {
  constructor({ state, call, onError, onChange, guide, beforeRun }) {
    this.state = state;
    this.call = call;
    this.onError = onError;
    this.onChange = onChange;
    this.guide = guide; // async () => { x, shape, label } | null
    this.beforeRun = beforeRun; // () => pause the grid, so the edit has the worker
    this.model = null;
    this.shape = [1, 28, 28];
    this.player = new ImagePlayer({
      call,
      run: 'edit',
      speed: () => this.state.ispeed,
      onFrame: (f, total) => this.draw(f, total),
      onState: () => this.buttons(),
      onError,
    });
  }

  init() {
    const t0 = $('sd-t0');
    t0.addEventListener('input', () => {
      this.state.t0 = Number(t0.value);
      $('sd-t0-value').textContent = t0.value;
      this.onChange();
    });
    $('sd-run').addEventListener('click', () => this.run().catch(this.onError));
    $('sd-pause').addEventListener('click', () => this.player.pause());
    this.showT0();
  }

  setModel(info, steps) {
    this.model = info;
    if (info) this.shape = info.image;
    const t0 = $('sd-t0');
    t0.max = String(steps - 1);
    if (this.state.t0 > steps - 1) {
      this.state.t0 = steps - 1;
      this.onChange();
    }
    this.showT0();
    this.buttons();
  }

  showT0() {
    $('sd-t0').value = String(this.state.t0);
    $('sd-t0-value').textContent = String(this.state.t0);
  }

  buttons() {
    const p = this.player;
    $('sd-run').disabled = !this.model || p.running;
    $('sd-pause').disabled = !p.running;
    $('sd-run').textContent = p.running ? '… editing' : '▶ edit';
    document.body.dataset.sdeditRunning = p.running ? '1' : '0';
  }

  // Show the guide the next edit will start from.
  async showGuide() {
    const g = await this.guide();
    if (g) drawImage($('sd-guide'), g.x, g.shape);
    else drawMessage($('sd-guide'), 'no guide yet');
    return g;
  }

  async run() {
    if (!this.model) return;
    this.beforeRun();
    const g = await this.showGuide();
    if (!g) {
      $('sd-caption').textContent = 'No guide: this model\'s images are not digits; sample the grid first, its first image becomes the guide.';
      return;
    }
    delete document.body.dataset.sdeditDone;
    let start = 0;
    const begun = await this.player.begin(async () => {
      const r = await this.call('startSdedit', {
        spec: imageSpec(this.state), guidance: guidanceOptions(this.state), x0: g.x, t0: this.state.t0, n: COPIES, seed: this.state.seed,
      });
      start = r.start;
      return r.total;
    });
    if (!begun) return;
    $('sd-caption').textContent = `guide: ${g.label} · noised to t = ${start}`
      + (start === this.state.t0 ? '' : ` (the sampler's step at or below t₀ = ${this.state.t0})`)
      + `, then ${this.player.total} reverse steps`;
    document.body.dataset.sdeditStart = String(start);
    await this.player.play();
  }

  draw(f, total) {
    drawGrid($('sd-xt'), f.x, this.shape, COPIES);
    drawGrid($('sd-x0'), f.x0, this.shape, COPIES);
    const taken = total - f.remaining;
    document.body.dataset.sdeditStep = String(taken);
    if (f.remaining === 0) document.body.dataset.sdeditDone = '1';
  }

  stop() {
    return this.player.stop();
  }
}
