// The bench page: one backend per load (WebGPU initialises once per page). Times DDPM ancestral
// sampling with the pretrained MLP and training steps of a fresh MLP with the page's default
// settings, per objective, in the page's worker, and names the machine and adapter.
const p = new URLSearchParams(location.hash.slice(1));
const backend = ['webgpu', 'flex', 'auto'].includes(p.get('backend')) ? p.get('backend') : 'auto';
const int = (key, def) => Math.max(1, Number(p.get(key) ?? def) | 0);
const n = int('n', 10000);
const steps = int('steps', 50);
const trainSteps = int('trainSteps', 20);
const objectives = (p.get('train') ?? 'ddpm').split(',');
// The training defaults (the catalogue's), with the hash's batch, on the default process (VP,
// T = 1000).
const trainConfig = (objective, batch) => ({ options: { batch_size: batch }, objective });

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let id = 0;
const call = (cmd, args) =>
  new Promise((resolve, reject) => {
    const my = id++;
    const onmsg = (e) => {
      if (e.data.id !== my) return;
      worker.removeEventListener('message', onmsg);
      e.data.ok ? resolve(e.data.result) : reject(new Error(e.data.error));
    };
    worker.addEventListener('message', onmsg);
    worker.postMessage({ id: my, cmd, args });
  });

const $ = (i) => document.getElementById(i);

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    tr.append(td);
  }
  $('rows').append(tr);
}

try {
  const info = await call('init', { backend });
  const machine = { cores: navigator.hardwareConcurrency ?? null, userAgent: navigator.userAgent };
  $('backend').textContent = info.backend;
  $('adapter').textContent = info.adapter ?? '';
  $('machine').textContent = `${machine.cores ?? '?'} logical cores · ${machine.userAgent}`;
  if (info.notice) {
    $('notice').textContent = info.notice;
    $('notice').hidden = false;
  }
  const { catalogue } = await call('catalogue');
  const unknown = objectives.filter((o) => !catalogue.objectives.some((e) => e.kind === o));
  if (unknown.length) throw new Error(`train=${unknown.join(',')}: no such objective`);
  const batch = p.has('batch') ? int('batch') : catalogue.training.find((o) => o.key === 'batch_size').default;
  const { stepsPerSec } = await call('bench', { n, steps });
  row(['sampling: DDPM ancestral', `${n} points`, stepsPerSec.toPrecision(3)]);
  const training = [];
  for (const objective of objectives) {
    const r = await call('benchTrain', { config: trainConfig(objective, batch), steps: trainSteps });
    training.push({ objective, batch, steps: trainSteps, stepsPerSec: r.stepsPerSec });
    row([`training: ${objective}`, `batch ${batch}`, r.stepsPerSec.toPrecision(3)]);
  }
  const result = {
    backend: info.backend, adapter: info.adapter, machine, n, steps, stepsPerSec, training,
    userAgent: navigator.userAgent,
  };
  $('result').textContent = JSON.stringify(result, null, 2);
  window.benchResult = result;
} catch (e) {
  $('result').textContent = `error: ${e.message}`;
  window.benchResult = { error: e.message };
}
