// The page's forward process from its state: the ProcessConfig JSON that Rust reads
// (src/process/discrete.rs) and the words and equations that name it. Its marginal is always
// q(x_t | x_0) = N(a_t x_0, s_t² I); the three processes differ in a_t and s_t.

export const PROCESS_KEYS = new Set(['process', 'schedule', 'T', 'L', 'veMin', 'veMax']);

// DDPM's β range (Ho et al. 2020, §4); the cosine schedule ignores it.
const BETA = { beta_start: 1e-4, beta_end: 0.02 };

export function processConfig(s) {
  if (s.process === 've') return { kind: 've', sigma_min: s.veMin, sigma_max: s.veMax, levels: s.L };
  return { kind: s.process, schedule: { kind: s.schedule, steps: s.T, ...BETA } };
}

// a_t, s_t and the chain of each process, as the forward panel writes them.
export const PROCESS_TEXT = {
  vp: {
    name: 'VP (DDPM)',
    marginal: 'q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t) I)',
    chain: 'x_t = √α_t x_{t−1} + √β_t ε',
    std: 'σ_t = √(1−ᾱ_t)',
  },
  sub_vp: {
    name: 'sub-VP',
    marginal: 'q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t)² I)',
    chain: 'x_t = √α_t x_{t−1} + √((1−α_t)(1−α_t ᾱ²_{t−1})) ε',
    std: 'σ_t = 1−ᾱ_t',
  },
  ve: {
    name: 'VE (NCSN)',
    marginal: 'q(x_t | x_0) = N(x_0, σ_t² I),  σ_t = σ_min (σ_max/σ_min)^{t/(L−1)}',
    chain: 'x_t = x_{t−1} + √(σ_t² − σ_{t−1}²) ε',
    std: 'σ_t',
  },
};
