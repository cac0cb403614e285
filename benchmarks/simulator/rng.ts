/* eslint-disable no-bitwise */
/** Deterministic RNG (mulberry32): every random choice of a simulation comes from one seeded stream. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A short stable hash of a string (FNV-1a, 32 bits), as 8 hex digits: for ETags of simulated content. */
export function hash32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
/* eslint-enable no-bitwise */

/** `n` lowercase base32 characters from `random` (export-name suffixes in the simulation are seeded, not crypto). */
export function base32(random: () => number, n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < n; i++) {
    out += alphabet[Math.floor(random() * 32)];
  }
  return out;
}

export const MIN = 60_000;
export const DAY = 24 * 60 * MIN;
