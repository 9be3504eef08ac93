// Reverse panel in image mode: a grid of samples denoising live (x_t) beside the network's
// guess x̂₀, with the player's ▶, ❚❚, step and steps/frame. DDIM or DDPM ancestral, as the
// scheduler of the model asks for clipping.
import { drawGrid, drawMessage } from '../imaging.js';
import { ImagePlayer } from './image-player.js';
import { showEquation } from '../eq.js';
import { entry, guidanceOptions, valueOf } from '../catalogue.js';

const $ = (id) => document.getElementById(id);
const inImageMode = () => document.body.dataset.mode === 'images';

// The SamplerSpec JSON (src/sampler/spec.rs) of the image samplers: the catalogue's sampler with
// the 2-D panel's options, and image mode's own steps and η for DDIM.
export function imageSpec(s) {
  const spec = valueOf('samplers', s.isampler, s);
  return s.isampler === 'ddim' ? { ...spec, steps: s.isteps, eta: s.ieta } : spec;
}

export class ImageReversePanel {
  constructor({ state, call, hud, onError, onSample }) {
    this.state = state;
    this.call = call;
    this.hud = hud;
    this.onError = onError;
    this.onSample = onSample; // (x, n) => a finished grid of samples
    this.model = null; // the worker's model info, or null
    this.shape = [1, 28, 28];
    this.n = 0;
    this.player = new ImagePlayer({
      call,
      run: 'grid',
      speed: () => this.state.ispeed,
      onFrame: (f, total) => this.draw(f, total),
      onState: () => this.buttons(),
      onError,
    });
  }

  init() {
    $('sample').addEventListener('click', () => inImageMode() && this.sample().catch(this.onError));
    $('pause').addEventListener('click', () => inImageMode() && this.player.pause());
    $('step-once').addEventListener('click', () => inImageMode() && this.stepOnce().catch(this.onError));
  }

  setModel(info) {
    this.model = info;
    if (info) this.shape = info.image;
  }

  buttons() {
    if (!inImageMode()) return;
    const p = this.player;
    $('sample').disabled = !this.model || p.running;
    $('pause').disabled = !p.running;
    $('step-once').disabled = !this.model || p.running || p.done;
    $('sample').textContent = p.done ? '↻ sample again' : p.frame && p.frame.remaining < p.total ? '▶ resume' : '▶ sample';
    document.body.dataset.imageRunning = p.running ? '1' : '0';
  }

  syncOptions() {
    document.body.dataset.isampler = this.state.isampler;
    showEquation($('reverse-eq'), entry('samplers', this.state.isampler).equation);
  }

  // Begin a new grid from x_T (`init`, [n, c·h·w], or noise from the seed); false if there is no
  // model or another walk began meanwhile.
  async begin(init = null) {
    this.syncOptions();
    const d = this.shape.reduce((a, b) => a * b, 1);
    const n = init ? init.length / d : this.state.igrid ** 2;
    if (!this.model) {
      await this.player.stop();
      for (const id of ['grid-xt', 'grid-x0']) drawMessage($(id), 'no image model yet: drop one in the Image model panel');
      return false;
    }
    this.n = n;
    delete document.body.dataset.imageDone;
    return this.player.begin(async () => {
      const { total } = await this.call('startImageSampler', {
        spec: imageSpec(this.state), guidance: guidanceOptions(this.state), n, seed: this.state.seed, init,
      });
      return total;
    });
  }

  // ▶: resume, or begin anew when finished or never begun.
  async sample() {
    if (this.player.done || !this.player.frame) {
      if (!(await this.begin())) return;
    }
    await this.player.play();
  }

  async stepOnce() {
    if (!this.player.frame && !(await this.begin())) return;
    await this.player.stepOnce();
  }

  // A setting changed: a new grid, playing (not awaited: the page goes on meanwhile).
  async restart() {
    if (await this.begin()) this.player.play();
  }

  // For the page tests and for a reference check: the grid from `init` to its end; returns the
  // final images.
  async runFrom(init) {
    if (!(await this.begin(init))) throw new Error('no image model');
    await this.player.play();
    return this.player.frame.x;
  }

  stop() {
    return this.player.stop();
  }

  draw(f, total) {
    drawGrid($('grid-xt'), f.x, this.shape, this.n);
    drawGrid($('grid-x0'), f.x0, this.shape, this.n);
    const taken = total - f.remaining;
    const stepped = taken - (this.taken ?? 0);
    this.taken = taken;
    $('step-counter').textContent = String(taken);
    $('step-total').textContent = String(total);
    $('t-reverse').textContent = taken === 0 ? 'T (noise)' : f.remaining === 0 ? '0 (done)' : String(f.t);
    document.body.dataset.imageStep = String(taken);
    if (stepped > 0 && f.ms > 0) this.hud.steps(stepped / (f.ms / 1000));
    if (f.remaining === 0) {
      document.body.dataset.imageDone = '1';
      this.onSample(f.x, this.n);
    }
  }
}
