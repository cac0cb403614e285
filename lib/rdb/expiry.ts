/**
 * Reading the verifier's expiry histogram (contract; the implementation replaces the body).
 */
import { RdbExpiryBucket } from './types';

/**
 * How many keys of a histogram expire in `[fromMs, toMs)`: `atLeast` counts the buckets wholly inside the range,
 * `atMost` every bucket that overlaps it. A restore at `toMs` of a backup taken at `fromMs` has between
 * `keys - atMost` and `keys - atLeast` keys live (of those with an expiry).
 */
export function keysExpiringBetween(_histogram: readonly RdbExpiryBucket[], _fromMs: number, _toMs: number): { atLeast: number; atMost: number } {
  throw new Error('keysExpiringBetween is not implemented yet');
}
