/**
 * Reading the verifier's expiry histogram (see histogram.ts for how buckets are made).
 */
import { RdbExpiryBucket } from './types';

/**
 * How many keys of a histogram expire in `[fromMs, toMs)`: `atLeast` counts the buckets wholly inside the range,
 * `atMost` every bucket that overlaps it. A restore at `toMs` of a backup taken at `fromMs` has between
 * `keys - atMost` and `keys - atLeast` keys live (of those with an expiry).
 */
export function keysExpiringBetween(histogram: readonly RdbExpiryBucket[], fromMs: number, toMs: number): { atLeast: number; atMost: number } {
  let atLeast = 0;
  let atMost = 0;
  if (!(toMs > fromMs)) {
    return { atLeast, atMost };
  }
  for (const bucket of histogram) {
    const overlaps = bucket.notBefore < toMs && bucket.notAfter > fromMs;
    if (!overlaps) continue;
    atMost += bucket.keys;
    if (bucket.notBefore >= fromMs && bucket.notAfter <= toMs) {
      atLeast += bucket.keys;
    }
  }
  return { atLeast, atMost };
}
