/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * The coarse histogram of key expire times the verifier reports (`RdbReport.expiryHistogram`).
 *
 * Buckets are relative to a reference time: the file's creation time (`ctime` aux field, written before any key by
 * every engine since Redis 3.2), or, for files without it, the first expire time met rounded down to the second.
 * Offsets from the reference are bucketed on a logarithmic scale with four buckets per power of two:
 * - `[ref, ref + 1 s)`;
 * - then for k = 0, 1, 2, ...: `[ref + 2^k s * (1 + j/4), ref + 2^k s * (1 + (j+1)/4))` for j = 0..3,
 *   so a bucket spans at most a fifth of its distance from the reference (1 s near it, about 4.5 h at a day, 9 days
 *   at a year);
 * - the same mirrored before the reference, for keys already expired when the file was written.
 * Expire times are whole milliseconds, so the bounds are exact integers.
 */
import { RdbExpiryBucket } from './types';

const SECOND = 1000;
const STEPS_PER_OCTAVE = 4;
/** Enough buckets for offsets up to 2^70 s, far past any representable expire time. */
const BUCKETS = 1 + STEPS_PER_OCTAVE * 72;

/** Bucket index of an offset `d >= 0` in milliseconds. */
function bucketOf(d: number): number {
  if (d < SECOND) return 0;
  let k = Math.floor(Math.log2(d / SECOND));
  // log2 of a double can be off by one at exact powers of two: settle it with exact comparisons.
  if (SECOND * 2 ** k > d) k--;
  if (SECOND * 2 ** (k + 1) <= d) k++;
  const base = SECOND * 2 ** k;
  const step = base / STEPS_PER_OCTAVE;
  const j = Math.min(STEPS_PER_OCTAVE - 1, Math.floor((d - base) / step));
  return 1 + k * STEPS_PER_OCTAVE + j;
}

/** `[lower, upper)` of a bucket index, as offsets in milliseconds. */
function boundsOf(index: number): [number, number] {
  if (index === 0) return [0, SECOND];
  const k = Math.floor((index - 1) / STEPS_PER_OCTAVE);
  const j = (index - 1) % STEPS_PER_OCTAVE;
  const base = SECOND * 2 ** k;
  const step = base / STEPS_PER_OCTAVE;
  return [base + j * step, base + (j + 1) * step];
}

/** Collects expire times (epoch ms) into buckets. */
export class ExpiryHistogramBuilder {
  private reference: number | undefined;
  /** Allocated at the first key with an expiry (most verifications of small files never need them). */
  private future: Float64Array | undefined;
  private past: Float64Array | undefined;

  /** Sets the reference time if no expire time was added yet. */
  public setReference(ms: number): void {
    if (this.reference === undefined && Number.isFinite(ms)) this.reference = ms;
  }

  public add(ms: number): void {
    if (this.reference === undefined) this.reference = Math.floor(ms / SECOND) * SECOND;
    if (!this.future || !this.past) {
      this.future = new Float64Array(BUCKETS);
      this.past = new Float64Array(BUCKETS);
    }
    const d = ms - this.reference;
    if (d >= 0) {
      this.future[bucketOf(d)]++;
    } else {
      // t in [ref - U, ref - L) <=> (ref - t) in (L, U] <=> (ref - t - 1) in [L, U) for whole milliseconds.
      this.past[bucketOf(-d - 1)]++;
    }
  }

  /** Non-empty buckets, sorted by time, disjoint. */
  public buckets(): RdbExpiryBucket[] {
    const ref = this.reference ?? 0;
    const out: RdbExpiryBucket[] = [];
    if (!this.future || !this.past) return out;
    const { past, future } = this;
    for (let i = BUCKETS - 1; i >= 0; i--) {
      if (past[i] > 0) {
        const [lower, upper] = boundsOf(i);
        out.push({ notBefore: ref - upper, notAfter: ref - lower, keys: past[i] });
      }
    }
    for (let i = 0; i < BUCKETS; i++) {
      if (future[i] > 0) {
        const [lower, upper] = boundsOf(i);
        out.push({ notBefore: ref + lower, notAfter: ref + upper, keys: future[i] });
      }
    }
    return out;
  }
}
