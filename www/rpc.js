// The worker, as promises: call(cmd, args) -> the worker's result. All wasm lives in the worker.
// The worker also sends events (no id): `fallback` after it rebuilt the session on the CPU
// because the GPU device was lost, `failed` when it could not. Requests that the lost device took
// with it reject with an error whose `lost` is true.
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 0;
const pending = new Map();
const failureListeners = [];
const eventListeners = new Map();

function lostError() {
  const e = new Error('the GPU device was lost during this request');
  e.lost = true;
  return e;
}

worker.onmessage = (e) => {
  const { id, ok, result, error, event, lostIds } = e.data;
  if (event) {
    for (const lid of lostIds ?? []) {
      pending.get(lid)?.reject(lostError());
      pending.delete(lid);
    }
    for (const f of eventListeners.get(event) ?? []) f(e.data);
    return;
  }
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  if (ok) p.resolve(result);
  else {
    const err = new Error(error);
    err.lost = Boolean(e.data.lost);
    p.reject(err);
  }
};
worker.onerror = (e) => {
  for (const f of failureListeners) f(`worker failed: ${e.message}`);
};

export function onWorkerFailure(f) {
  failureListeners.push(f);
}

export function onWorkerEvent(name, f) {
  if (!eventListeners.has(name)) eventListeners.set(name, []);
  eventListeners.get(name).push(f);
}

export function call(cmd, args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, args });
  });
}
