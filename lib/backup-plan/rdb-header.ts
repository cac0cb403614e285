/**
 * Reads the RDB format version from the first bytes of an `.rdb` file: `REDIS00NN` (Redis OSS, and Valkey up to 8.x)
 * or `VALKEYNNN` (Valkey 9 and later). Only what the manifest needs; the restore side has its own, fuller parser.
 * Not part of the jsii API.
 */

/** How many bytes to fetch with a ranged GET. */
export const RDB_HEADER_BYTES = 9;

/** The RDB version in the header, or undefined when the bytes are not an RDB header. */
export function rdbVersionFromHeader(bytes: Uint8Array): number | undefined {
  if (bytes.length < RDB_HEADER_BYTES) {
    return undefined;
  }
  const text = String.fromCharCode(...bytes.subarray(0, RDB_HEADER_BYTES));
  const redis = /^REDIS(\d{4})$/.exec(text);
  if (redis) {
    return Number(redis[1]);
  }
  const valkey = /^VALKEY(\d{3})$/.exec(text);
  if (valkey) {
    return Number(valkey[1]);
  }
  return undefined;
}
