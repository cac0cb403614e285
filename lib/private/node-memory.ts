/**
 * Memory per ElastiCache node type, in GiB (pure; used by the restore preflight's size check and by the backup plan's
 * export timeout and partial-verification warning).
 *
 * Values are the "Memory (GiB)" column of AWS's "Supported node types" page, "Current Generation (Valkey)" tables
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html, read 2026-12-02 in a stored
 * copy of the page source): general purpose m8g/m7g/m6g/m5/m4 and t4g/t3/t2, memory optimized r8g/r7g/r6g/r5/r4,
 * data tiering r6gd (memory + SSD columns), network optimized c8gn/c7gn. Unknown node types get a warning, never a
 * failure. For r6gd (data tiering) the SSD adds capacity: the check uses memory + SSD.
 */
const NODE_MEMORY_GIB: Readonly<Record<string, number>> = {
  'cache.t3.micro': 0.5,
  'cache.t3.small': 1.37,
  'cache.t3.medium': 3.09,
  'cache.t2.micro': 0.555,
  'cache.t2.small': 1.55,
  'cache.t2.medium': 3.22,
  'cache.t4g.micro': 0.5,
  'cache.t4g.small': 1.37,
  'cache.t4g.medium': 3.09,
  'cache.m4.large': 6.42,
  'cache.m4.xlarge': 14.28,
  'cache.m4.2xlarge': 29.70,
  'cache.m4.4xlarge': 60.78,
  'cache.m4.10xlarge': 154.64,
  'cache.m5.large': 6.38,
  'cache.m5.xlarge': 12.93,
  'cache.m5.2xlarge': 26.04,
  'cache.m5.4xlarge': 52.26,
  'cache.m5.12xlarge': 157.12,
  'cache.m5.24xlarge': 314.32,
  ...family(['cache.m6g', 'cache.m7g'], { 'large': 6.38, 'xlarge': 12.93, '2xlarge': 26.04, '4xlarge': 52.26, '8xlarge': 103.68, '12xlarge': 157.12, '16xlarge': 209.55 }),
  // Graviton4: the same sizes as m7g/r7g with more memory each.
  ...family(['cache.m8g'], { 'large': 6.79, 'xlarge': 14.18, '2xlarge': 29.68, '4xlarge': 61.33, '8xlarge': 124.65, '12xlarge': 187.96, '16xlarge': 251.27 }),
  'cache.r4.large': 12.30,
  'cache.r4.xlarge': 25.05,
  'cache.r4.2xlarge': 50.47,
  'cache.r4.4xlarge': 101.38,
  'cache.r4.8xlarge': 203.26,
  'cache.r4.16xlarge': 407.00,
  'cache.r5.large': 13.07,
  'cache.r5.xlarge': 26.32,
  'cache.r5.2xlarge': 52.82,
  'cache.r5.4xlarge': 105.81,
  'cache.r5.12xlarge': 317.77,
  'cache.r5.24xlarge': 635.61,
  ...family(['cache.r6g', 'cache.r7g'], { 'large': 13.07, 'xlarge': 26.32, '2xlarge': 52.82, '4xlarge': 105.81, '8xlarge': 209.55, '12xlarge': 317.77, '16xlarge': 419.09 }),
  ...family(['cache.r8g'], { 'large': 14.18, 'xlarge': 29.68, '2xlarge': 61.33, '4xlarge': 124.65, '8xlarge': 251.27, '12xlarge': 377.9, '16xlarge': 504.52 }),
  // Network optimized.
  ...family(['cache.c7gn'], { 'large': 3.09, 'xlarge': 6.38, '2xlarge': 12.94, '4xlarge': 26.05, '8xlarge': 52.26, '12xlarge': 78.56, '16xlarge': 105.81 }),
  ...family(['cache.c8gn'], { 'large': 3.1, 'xlarge': 6.79, '2xlarge': 14.18, '4xlarge': 29.68, '8xlarge': 61.33, '12xlarge': 92.99, '16xlarge': 124.65 }),
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
