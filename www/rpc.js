// The worker, as promises: call(cmd, args) -> the worker's result. All wasm lives in the worker.
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 0;
const pending = new Map();
const failureListeners = [];

worker.onmessage = (e) => {
  const { id, ok, result, error } = e.data;
  const p = pending.get(id);
  pending.delete(id);
  if (ok) p.resolve(result);
  else p.reject(new Error(error));
};
worker.onerror = (e) => {
  for (const f of failureListeners) f(`worker failed: ${e.message}`);
};

export function onWorkerFailure(f) {
  failureListeners.push(f);
}

export function call(cmd, args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, args });
  });
}
