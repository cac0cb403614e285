/**
 * Memory per ElastiCache node type, in GiB (pure; used by the restore preflight's size check and by the backup plan's
 * export timeout and partial-verification warning).
 *
 * Values are the "memory" column of AWS's ElastiCache on-demand pricing / supported node types pages for
 * Valkey and Redis OSS. The t3 values were cross-checked against a third-party listing; the others are
 * taken from the same AWS table and not re-verified in this repository. Unknown node types get a warning,
 * never a failure. For r6gd (data tiering) the SSD adds capacity: the check uses memory + SSD.
 */
const NODE_MEMORY_GIB: Readonly<Record<string, number>> = {
  'cache.t3.micro': 0.5,
  'cache.t3.small': 1.37,
  'cache.t3.medium': 3.09,
  'cache.t4g.micro': 0.5,
  'cache.t4g.small': 1.37,
  'cache.t4g.medium': 3.09,
  'cache.m5.large': 6.38,
  'cache.m5.xlarge': 12.93,
  'cache.m5.2xlarge': 26.04,
  'cache.m5.4xlarge': 52.26,
  'cache.m5.12xlarge': 157.12,
  'cache.m5.24xlarge': 314.32,
  ...family(['cache.m6g', 'cache.m7g'], { 'large': 6.38, 'xlarge': 12.93, '2xlarge': 26.04, '4xlarge': 52.26, '8xlarge': 103.68, '12xlarge': 157.12, '16xlarge': 209.55 }),
  'cache.r5.large': 13.07,
  'cache.r5.xlarge': 26.32,
  'cache.r5.2xlarge': 52.82,
  'cache.r5.4xlarge': 105.81,
  'cache.r5.12xlarge': 317.77,
  'cache.r5.24xlarge': 635.61,
  ...family(['cache.r6g', 'cache.r7g'], { 'large': 13.07, 'xlarge': 26.32, '2xlarge': 52.82, '4xlarge': 105.81, '8xlarge': 209.55, '12xlarge': 317.77, '16xlarge': 419.09 }),
  // r6gd: memory + SSD (data tiering).
  'cache.r6gd.xlarge': 26.32 + 99.33,
  'cache.r6gd.2xlarge': 52.82 + 199.07,
  'cache.r6gd.4xlarge': 105.81 + 398.14,
  'cache.r6gd.8xlarge': 209.55 + 796.28,
  'cache.r6gd.12xlarge': 317.77 + 1194.42,
  'cache.r6gd.16xlarge': 419.09 + 1592.56,
};

function family(prefixes: string[], sizes: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const prefix of prefixes) {
    for (const [size, gib] of Object.entries(sizes)) {
      out[`${prefix}.${size}`] = gib;
    }
  }
  return out;
}

/** Memory (plus SSD for r6gd) of a node type in GiB, or undefined when the table does not list it. */
export function nodeMemoryGiB(nodeType: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(NODE_MEMORY_GIB, nodeType) ? NODE_MEMORY_GIB[nodeType] : undefined;
}

/** Whether a node type uses data tiering (r6gd). */
export function isDataTiering(nodeType: string): boolean {
  return nodeType.startsWith('cache.r6gd.');
}
