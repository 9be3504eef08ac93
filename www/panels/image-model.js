// Image model panel: bring your own diffusers UNet2DModel — a folder dropped here or picked, or
// its 2–3 files picked — checked in the worker (Rust) with a message naming any problem; the model
// in use stays until a new one is valid. A dropped model cannot live in the URL.
import { bindDrop } from '../files.js';

const $ = (id) => document.getElementById(id);

export class ModelPanel {
  constructor({ call, onModel, batch }) {
    this.call = call;
    this.onModel = onModel; // async (info) => the panels switch to the new model
    this.batch = batch; // () => the grid's number of images, for the memory check
    this.info = null;
  }

  init() {
    bindDrop({ zone: $('model-drop'), dir: $('model-dir'), files: $('model-files'), load: (f, o) => this.load(f, o) });
    $('model-default').addEventListener('click', () => this.loadDefault());
  }

  message(text, kind = 'error') {
    const m = $('model-message');
    m.textContent = text ?? '';
    m.dataset.kind = kind;
    m.hidden = !text;
    document.body.dataset.modelMessage = text ? kind : '';
  }

  // The model in use, under the drop zone.
  show(info, dropped) {
    this.info = info;
    $('model-caption').textContent = info
      ? `model: ${info.origin} · ${info.image.join('×')} · ${(info.params / 1e6).toFixed(2)}M parameters · predicts ${info.prediction} · T = ${info.steps}`
        + ` · x̂₀ ${info.clip ? `clipped to ±${info.clip}` : 'not clipped'}`
        + `${info.classes ? ` · class-conditional, labels 0–${info.classes - 1}` : ''}${dropped ? ' · not part of the link' : ''}`
      : 'model: none';
    $('guidance-controls').hidden = !info?.classes;
    document.body.dataset.imageModel = info ? info.origin : '';
  }

  keeps() {
    return this.info ? ` — the page keeps ${this.info.origin}.` : '';
  }

  async load(files, origin) {
    if (!files.length) {
      this.message(`Nothing to load from ${origin}.${this.keeps()}`);
      return;
    }
    this.message(`Checking ${origin}…`, 'info');
    try {
      const r = await this.call('loadImageFiles', { files, origin, batch: this.batch() });
      this.show(r.model, true);
      this.message(`Loaded ${origin}. It lives in this page only: a reload (or the link) brings back the default digit model.`, 'ok');
      await this.onModel(r);
    } catch (e) {
      if (e.lost) return;
      this.message(`${e.message}${this.keeps()}`);
    }
  }

  // The shipped digit model, if the server has it now.
  async loadDefault() {
    this.message('Looking for the default digit model…', 'info');
    try {
      const r = await this.call('loadDefaultImageModel', { batch: this.batch() });
      if (r.notice) {
        this.message(`${r.notice} Drop a diffusers UNet2DModel folder here to sample one.${this.keeps()}`, 'info');
        return false;
      }
      this.show(r.model, false);
      this.message(null);
      await this.onModel(r);
      return true;
    } catch (e) {
      if (!e.lost) this.message(`${e.message}${this.keeps()}`);
      return false;
    }
  }
}
