/**
 * What the streaming RDB verifier reports (the contract between `lib/rdb/` and its users: the export verifier Lambda,
 * the manifest, the restore preflight, the restore drill and the `verify` command).
 *
 * Pure types. The verifier itself lives in `verifier.ts` beside this file.
 */

/** Whether the file's CRC-64 trailer was checked. */
export type RdbChecksumStatus =
  /** The trailer matched the CRC-64 of every byte before it. */
  | 'ok'
  /** The trailer is zero: the writer had `rdbchecksum no`. The structure was still walked to EOF. */
  | 'disabled'
  /** RDB versions before 5 carry no trailer. */
  | 'absent';

/** Keys of one logical database. */
export interface RdbDatabaseCount {
  /** Database number (SELECTDB). */
  readonly db: number;
  readonly keys: number;
  /** Keys of this database that carry an expire time. */
  readonly keysWithExpiry: number;
}

/**
 * A coarse bucket of expire times: `keys` keys expire at a time t with `notBefore <= t < notAfter` (epoch
 * milliseconds). Buckets are disjoint and sorted; together they hold every key with an expiry. Keys already expired
 * when the file was written fall in a bucket whose `notAfter` is at or before the file's creation time.
 */
export interface RdbExpiryBucket {
  readonly notBefore: number;
  readonly notAfter: number;
  readonly keys: number;
}

/** The result of walking a whole RDB file. */
export interface RdbReport {
  /** Which magic the file starts with: `REDIS00NN` or `VALKEYNNN`. */
  readonly format: 'redis' | 'valkey';
  readonly rdbVersion: number;
  /** The engine that wrote the file (from the `valkey-ver` / `redis-ver` aux field), when present. */
  readonly writerEngine?: 'redis' | 'valkey';
  readonly writerVersion?: string;
  /** Epoch milliseconds from the `ctime` aux field (seconds in the file), when present. */
  readonly createdAtMs?: number;
  /** Bytes walked, trailer included: the whole file. */
  readonly sizeBytes: number;
  readonly checksum: RdbChecksumStatus;
  /** The CRC-64 (Jones, reflected, as Redis computes it) of every byte before the trailer, as 16 lowercase hex digits. */
  readonly crc64: string;
  /** Per database, in the order met; databases without keys are left out. */
  readonly databases: readonly RdbDatabaseCount[];
  readonly keys: number;
  readonly keysWithExpiry: number;
  readonly expiryHistogram: readonly RdbExpiryBucket[];
  /** Every aux field (`redis-ver`, `ctime`, `used-mem`, `aof-base`, ...) as text; integer-encoded values as decimal. */
  readonly aux: Readonly<Record<string, string>>;
  /** Number of FUNCTION libraries in the file. */
  readonly functions: number;
  /** Module type names (9-character ids) met in module values and module aux data, with counts. */
  readonly modules: Readonly<Record<string, number>>;
  /**
   * Keys per RDB value encoding, by the engines' names for the type ids (`string`, `list-quicklist-2`,
   * `hash-listpack`, `stream-listpacks-3`, ...).
   */
  readonly valueTypes: Readonly<Record<string, number>>;
}

/** Options of the verifier. */
export interface RdbVerifyOptions {
  /**
   * Refuse a file whose trailer is zero (checksum disabled) instead of reporting `checksum: 'disabled'`.
   * @default false
   */
  readonly requireChecksum?: boolean;
}
