// One image walk in the worker (the grid or SDEdit), played a few steps per animation frame,
// paused, or stepped once. A walk begun anew makes the old loop stale: whatever it still receives
// is dropped.
export class ImagePlayer {
  constructor({ call, run, speed, onFrame, onState, onError }) {
    this.call = call;
    this.run = run; // 'grid' | 'edit' (the worker's ImageRun)
    this.speed = speed; // () => steps per request
    this.onFrame = onFrame; // (frame, total) => draw it
    this.onState = onState; // () => the buttons follow running/done
    this.onError = onError;
    this.gen = 0;
    this.loop = null;
    this.frame = null;
    this.total = 0;
    this.running = false;
    this.done = false;
  }

  // Start a walk: `begin()` asks the worker for it and returns its number of steps. Shows the
  // starting images. False if another walk began meanwhile.
  async begin(begin) {
    await this.stop();
    const gen = this.gen;
    const total = await begin();
    if (gen !== this.gen) return false;
    this.total = total;
    const f = await this.call('imageSteps', { run: this.run, k: 0 });
    if (gen !== this.gen) return false;
    this.accept(f);
    return true;
  }

  accept(f) {
    this.frame = f;
    this.done = f.remaining === 0;
    this.onFrame(f, this.total);
    this.onState();
  }

  async play() {
    if (this.running || this.loop || !this.frame || this.done) return;
    this.running = true;
    this.onState();
    this.loop = this.steps(this.gen);
    await this.loop;
    this.loop = null;
    this.onState();
  }

  async steps(gen) {
    try {
      while (this.running && !this.done) {
        const f = await this.call('imageSteps', { run: this.run, k: this.speed() });
        if (gen !== this.gen) return;
        this.accept(f);
        await new Promise(requestAnimationFrame);
      }
    } catch (e) {
      if (gen === this.gen) this.onError(e);
    } finally {
      if (gen === this.gen) this.running = false;
    }
  }

  pause() {
    this.running = false;
    this.onState();
  }

  async stepOnce() {
    if (this.running || this.loop || !this.frame || this.done) return;
    const gen = this.gen;
    const f = await this.call('imageSteps', { run: this.run, k: 1 });
    if (gen === this.gen) this.accept(f);
  }

  // Forget the walk (the next ▶ begins afresh).
  async stop() {
    this.gen += 1;
    this.running = false;
    while (this.loop) await this.loop;
    this.frame = null;
    this.done = false;
    this.onState();
  }
}
