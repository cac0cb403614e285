/**
 * Hash slot ranges for seeding a cluster-mode-enabled replication group (pure).
 *
 * ElastiCache requires `NodeGroupConfiguration[].Slots` when a cluster-mode-enabled group is seeded from
 * `.rdb` files ("Slots must be provided when restoring from snapshot ARNs with cluster mode enabled").
 * The keyspace is 0-16383; each new shard gets an even, contiguous share.
 */

/** Number of hash slots in a Redis OSS / Valkey cluster. */
export const HASH_SLOTS = 16384;
/** ElastiCache's maximum number of node groups (shards) per replication group. */
export const MAX_SHARDS = 500;

/**
 * Even split of slots 0-16383 over `shardCount` shards, as `"start-end"` strings (both inclusive).
 *
 * Shard i gets `floor(16384 * i / n)` to `floor(16384 * (i + 1) / n) - 1`: sizes differ by at most one slot.
 *
 * @throws RangeError when shardCount is not an integer from 1 to 500
 */
export function evenSlotRanges(shardCount: number): string[] {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new RangeError(`shard count must be an integer from 1 to ${MAX_SHARDS}, got ${shardCount}`);
  }
  const ranges: string[] = [];
  for (let i = 0; i < shardCount; i++) {
    const start = Math.floor((HASH_SLOTS * i) / shardCount);
    const end = Math.floor((HASH_SLOTS * (i + 1)) / shardCount) - 1;
    ranges.push(`${start}-${end}`);
  }
  return ranges;
}

/** The four-digit NodeGroupId of the n-th shard (1-based): `0001`. */
export function nodeGroupId(shardNumber: number): string {
  return String(shardNumber).padStart(4, '0');
}
