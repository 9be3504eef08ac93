// The 2-D model drop: a folder that `dplay train` wrote (or this page's download, a .zip) becomes
// the pretrained score source, with the process and the data set it was trained on. The worker
// (Rust) checks it and names any problem; the model in use stays until a new one is valid. A
// dropped model is not part of the link.
import { dropped, picked } from '../files.js';

const $ = (id) => document.getElementById(id);

export class PointsModel {
  constructor({ call, onModel }) {
    this.call = call;
    this.onModel = onModel; // async (result) => the panels switch to the model
  }

  init() {
    const drop = $('points-model-drop');
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.dataset.over = '1';
    });
    drop.addEventListener('dragleave', () => { drop.dataset.over = '0'; });
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.dataset.over = '0';
      dropped(e.dataTransfer).then((d) => this.load(d.files, d.origin));
    });
    drop.addEventListener('click', () => $('points-model-dir').click());
    drop.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        $('points-model-dir').click();
      }
    });
    $('points-model-dir').addEventListener('change', (e) => {
      const d = picked(e.target, 'the chosen folder');
      this.load(d.files, d.origin);
      e.target.value = '';
    });
    $('points-model-files').addEventListener('change', (e) => {
      const files = [...e.target.files].map((file) => ({ file, path: file.name }));
      this.load(files, 'the chosen files');
      e.target.value = '';
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
    this.message(`${origin}: ${r.card.train.objective.kind === 'on_process' ? r.card.train.objective.objective : r.card.train.objective.kind} model, ${r.card.trained_steps} steps — the pretrained score now`, 'ok');
    await this.onModel(r);
  }
}
