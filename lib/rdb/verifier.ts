/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * The streaming RDB verifier: walks every record of a dump (see `walker.ts`) and checks its CRC-64 trailer, fed with
 * chunks of any size. Pure: no I/O; memory flat in the file size.
 *
 * The CRC runs over the raw chunks, independently of the walk, holding back the last 8 bytes seen (the trailer, once
 * the file has ended): the walk proves the trailer sits right after the EOF opcode and ends the file. The CRC runs in
 * WebAssembly when available (crc64-wasm.ts; about twice the JavaScript version's speed), else in JavaScript.
 *
 * What the walk checks, beyond the layout of every record: LZF strings decompress to exactly their announced size
 * with no back-reference before the start; listpacks, ziplists, intsets, zipmaps and stream nodes pass the checks the
 * engines make with `sanitize-dump-payload yes`; scores are not NaN; stream node IDs are 16 bytes. It does not check
 * what needs memory proportional to a key (duplicate members, stream PEL cross-references).
 */
import { hex64 } from './crc64';
import { crc64UpdateFast } from './crc64-wasm';
import { RdbVerifyError } from './errors';
import { RdbChecksumStatus, RdbReport, RdbVerifyOptions } from './types';
import { RdbWalker } from './walker';

export { RdbVerifyError } from './errors';

const TRAILER = 8;

/** Feed the file in chunks of any size with `update`, then call `finish`. Memory stays flat in the file size. */
export class RdbVerifier {
  private readonly walker = new RdbWalker();
  private readonly requireChecksum: boolean;
  private crcLo = 0;
  private crcHi = 0;
  /** The last (up to) 8 bytes fed, not yet in the CRC. */
  private held = new Uint8Array(TRAILER);
  private spare = new Uint8Array(TRAILER);
  private heldLen = 0;
  private failure: RdbVerifyError | undefined;
  private report: RdbReport | undefined;

  constructor(options: RdbVerifyOptions = {}) {
    this.requireChecksum = options.requireChecksum ?? false;
  }

  /** @throws RdbVerifyError as soon as the bytes seen so far cannot be a valid file */
  public update(chunk: Uint8Array): void {
    this.guard(() => {
      if (this.report) throw new RdbVerifyError(`at byte ${this.walker.size}: update() after finish()`, this.walker.size);
      this.walker.update(chunk);
      this.crc(chunk);
    });
  }

  /** @throws RdbVerifyError when the file ended early or the trailer does not match */
  public finish(): RdbReport {
    if (this.report) return this.report;
    this.guard(() => {
      if (!this.walker.complete) throw this.walker.truncated();
      this.report = this.buildReport();
    });
    return this.report!;
  }

  /** Runs `f`; any error becomes (and stays) an RdbVerifyError. */
  private guard(f: () => void): void {
    if (this.failure) throw this.failure;
    try {
      f();
    } catch (e) {
      this.failure = e instanceof RdbVerifyError
        ? e
        : new RdbVerifyError(`at byte ${this.walker.size}: internal error while verifying: ${e instanceof Error ? e.message : String(e)}`, this.walker.size);
      throw this.failure;
    }
  }

  /** Folds everything but the last 8 bytes seen into the CRC. */
  private crc(chunk: Uint8Array): void {
    const n = chunk.length;
    const total = this.heldLen + n;
    if (total <= TRAILER) {
      this.held.set(chunk, this.heldLen);
      this.heldLen = total;
      return;
    }
    const toCrc = total - TRAILER;
    const fromHeld = Math.min(this.heldLen, toCrc);
    if (fromHeld > 0) this.fold(this.held, 0, fromHeld);
    const fromChunk = toCrc - fromHeld;
    if (fromChunk > 0) this.fold(chunk, 0, fromChunk);
    // The new held bytes: what is left of the old ones, then the end of the chunk.
    const next = this.spare;
    next.set(this.held.subarray(fromHeld, this.heldLen), 0);
    next.set(chunk.subarray(fromChunk), this.heldLen - fromHeld);
    this.spare = this.held;
    this.held = next;
    this.heldLen = TRAILER;
  }

  private fold(bytes: Uint8Array, start: number, end: number): void {
    const r = crc64UpdateFast(this.crcLo, this.crcHi, bytes, start, end);
    this.crcLo = r.lo;
    this.crcHi = r.hi;
  }

  private buildReport(): RdbReport {
    const w = this.walker;
    let checksum: RdbChecksumStatus;
    if (!w.hasTrailer) {
      this.fold(this.held, 0, this.heldLen); // no trailer: the CRC covers the whole file
      checksum = 'absent';
    } else {
      checksum = this.checkTrailer();
    }
    const databases = [...w.databases.values()].filter((d) => d.keys > 0).map((d) => ({ ...d }));
    const valkeyVer = w.aux['valkey-ver'];
    const redisVer = w.aux['redis-ver'];
    const ctime = w.aux.ctime;
    return {
      format: w.format,
      rdbVersion: w.rdbVersion,
      ...(valkeyVer !== undefined ? { writerEngine: 'valkey' as const, writerVersion: valkeyVer }
        : redisVer !== undefined ? { writerEngine: 'redis' as const, writerVersion: redisVer } : {}),
      ...(ctime !== undefined && /^-?\d+$/.test(ctime) ? { createdAtMs: Number(ctime) * 1000 } : {}),
      sizeBytes: w.size,
      checksum,
      crc64: hex64(this.crcLo, this.crcHi),
      databases,
      keys: w.keys,
      keysWithExpiry: w.keysWithExpiry,
      expiryHistogram: w.histogram.buckets(),
      aux: { ...w.aux },
      functions: w.functions,
      modules: { ...w.modules },
      valueTypes: w.valueTypes(),
    };
  }

  private checkTrailer(): RdbChecksumStatus {
    const t = this.held;
    const lo = (t[0] | (t[1] << 8) | (t[2] << 16) | (t[3] << 24)) >>> 0;
    const hi = (t[4] | (t[5] << 8) | (t[6] << 16) | (t[7] << 24)) >>> 0;
    const at = this.walker.size - TRAILER;
    if (lo === 0 && hi === 0) {
      if (this.requireChecksum) {
        throw new RdbVerifyError(`at byte ${at}: the checksum trailer is zero (the writer had rdbchecksum off), and a checksum is required`, at);
      }
      return 'disabled';
    }
    if (lo !== this.crcLo || hi !== this.crcHi) {
      throw new RdbVerifyError(
        `at byte ${at}: CRC-64 mismatch: the trailer says ${hex64(lo, hi)}, the ${at} bytes before it hash to ${hex64(this.crcLo, this.crcHi)} (the file is corrupt)`,
        at,
      );
    }
    return 'ok';
  }
}

/** Verifies a whole file held in memory. */
export function verifyRdb(bytes: Uint8Array, options: RdbVerifyOptions = {}): RdbReport {
  const v = new RdbVerifier(options);
  v.update(bytes);
  return v.finish();
}

/** Verifies a file from a stream of chunks (an S3 GetObject body, a file read stream). */
export async function verifyRdbStream(chunks: AsyncIterable<Uint8Array>, options: RdbVerifyOptions = {}): Promise<RdbReport> {
  const v = new RdbVerifier(options);
  for await (const chunk of chunks) {
    v.update(chunk);
  }
  return v.finish();
}
