// HUD: backend and adapter, reverse steps per second, and the page's frame time.
const $ = (id) => document.getElementById(id);

export class Hud {
  constructor() {
    this.frameMs = null;
    this.stepsPerSec = null;
    this.last = null;
    this.shown = 0;
    const tick = (now) => {
      if (this.last !== null) {
        const dt = now - this.last;
        this.frameMs = this.frameMs === null ? dt : 0.9 * this.frameMs + 0.1 * dt;
      }
      this.last = now;
      if (now - this.shown > 250) {
        this.shown = now;
        $('hud-frame').textContent = this.frameMs === null ? '–' : this.frameMs.toFixed(1);
        $('hud-steps').textContent = this.stepsPerSec === null ? '–' : (this.stepsPerSec >= 100 ? Math.round(this.stepsPerSec).toString() : this.stepsPerSec.toPrecision(3));
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  backend(info) {
    const badge = $('backend');
    badge.dataset.state = info.backend;
    badge.textContent = info.backend === 'webgpu' ? 'WebGPU' : 'CPU (flex)';
    $('adapter').textContent = info.adapter ?? '';
  }

  // Steps per second of the last sampler batch, smoothed.
  steps(perSec) {
    this.stepsPerSec = this.stepsPerSec === null ? perSec : 0.7 * this.stepsPerSec + 0.3 * perSec;
  }
}
