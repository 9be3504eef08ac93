// The bench page: one backend per load (WebGPU initialises once per page).
const p = new URLSearchParams(location.hash.slice(1));
const backend = ['webgpu', 'flex', 'auto'].includes(p.get('backend')) ? p.get('backend') : 'auto';
const n = Math.max(1, Number(p.get('n') ?? 10000) | 0);
const steps = Math.max(1, Number(p.get('steps') ?? 50) | 0);
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

const out = document.getElementById('result');
try {
  const info = await call('init', { backend });
  document.getElementById('backend').textContent = info.backend;
  document.getElementById('adapter').textContent = info.adapter ?? '';
  if (info.notice) {
    document.getElementById('notice').textContent = info.notice;
    document.getElementById('notice').hidden = false;
  }
  const { stepsPerSec } = await call('bench', { n, steps });
  const result = { backend: info.backend, adapter: info.adapter, n, steps, stepsPerSec, userAgent: navigator.userAgent };
  out.textContent = JSON.stringify(result, null, 2);
  window.benchResult = result;
} catch (e) {
  out.textContent = `error: ${e.message}`;
  window.benchResult = { error: e.message };
}
