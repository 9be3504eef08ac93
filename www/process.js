// The page's forward process from its state: the ProcessConfig JSON that Rust reads
// (src/process/discrete.rs), built from the catalogue's options, and the words and equations that
// name it. Its marginal is always q(x_t | x_0) = N(a_t x_0, s_t² I); the processes differ in a_t
// and s_t.
import { entry, optionKeys, valueOf } from './catalogue.js';

// The state keys that change the process: the choice and every process's options.
export function processKeys() {
  return new Set(['process', ...optionKeys('processes')]);
}

export function processConfig(s) {
  return valueOf('processes', s.process, s);
}

// The forward panel's words for a process: its name, marginal, one-step chain and noise scale.
export function processText(kind) {
  const e = entry('processes', kind);
  return { name: e.label, marginal: e.equation, chain: e.facts.chain, std: e.facts.std, exploding: e.facts.exploding };
}
