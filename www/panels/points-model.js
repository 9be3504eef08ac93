// The 2-D model drop: a folder that `dplay train` wrote (or this page's download, a .zip) becomes
// the pretrained score source, with the process and the data set it was trained on. The worker
// (Rust) checks it and names any problem; the model in use stays until a new one is valid. A
// dropped model is not part of the link.
import { bindDrop } from '../files.js';

const $ = (id) => document.getElementById(id);

export class PointsModel {
  constructor({ call, onModel }) {
    this.call = call;
    this.onModel = onModel; // async (result) => the panels switch to the model
  }

  init() {
    bindDrop({
      zone: $('points-model-drop'),
      dir: $('points-model-dir'),
      files: $('points-model-files'),
      load: (f, o) => this.load(f, o),
    });
  }

  message(text, kind = 'error') {
    const m = $('points-model-message');
    m.textContent = text ?? '';
    m.dataset.kind = kind;
    m.hidden = !text;
    document.body.dataset.pointsModel = text ? kind : '';
  }

  async load(files, origin) {
    this.message(null);
    let r;
    try {
      r = await this.call('loadPointsModel', { files, origin });
    } catch (e) {
      if (!e.lost) this.message(e.message);
      return;
    }
    this.message(`${origin}: ${r.card.train.objective.objective} model, ${r.card.trained_steps} steps — the pretrained score now`, 'ok');
    await this.onModel(r);
  }
}
