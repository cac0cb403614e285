import { createHash } from 'crypto';

/**
 * Pure ElastiCache naming, node-type and AUTH token rules. Not exported from the package.
 */

/** The longest replication group identifier the service accepts. */
export const MAX_REPLICATION_GROUP_ID_LENGTH = 40;

/**
 * The problems with a replication group identifier, empty when it is valid.
 *
 * ElastiCache: 1 to 40 letters, digits or hyphens; starts with a letter; no two consecutive hyphens; does not end with a
 * hyphen. The service stores it lowercase; this library also requires it lowercase, so that the ARN, the member cluster
 * ids (`<id>-002`) and the value given are the same string.
 */
export function replicationGroupIdProblems(id: string): string[] {
  const problems: string[] = [];
  if (id.length < 1 || id.length > MAX_REPLICATION_GROUP_ID_LENGTH) {
    problems.push(`must be 1 to ${MAX_REPLICATION_GROUP_ID_LENGTH} characters long (it has ${id.length})`);
  }
  if (!/^[a-z0-9-]*$/.test(id)) {
    problems.push('may only contain lowercase letters, digits and hyphens');
  }
  if (!/^[a-z]/.test(id)) {
    problems.push('must start with a lowercase letter');
  }
  if (id.includes('--')) {
    problems.push('must not contain two consecutive hyphens');
  }
  if (id.endsWith('-')) {
    problems.push('must not end with a hyphen');
  }
  return problems;
}

/**
 * A valid, stable replication group identifier derived from a construct path.
 *
 * The readable part is the path in lowercase with every run of other characters turned into one hyphen, cut so that
 * the whole id fits in 40 characters; an 8-character hash of the full path keeps ids of different paths apart.
 */
export function generateReplicationGroupId(pathParts: string[]): string {
  const hash = createHash('sha256').update(pathParts.join('/')).digest('hex').slice(0, 8);
  const room = MAX_REPLICATION_GROUP_ID_LENGTH - hash.length - 1;
  const readable = pathParts.join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, room)
    .replace(/-+$/, '');
  return `${readable || 'rg'}-${hash}`;
}

/** The shortest AUTH token the service accepts. */
export const AUTH_TOKEN_MIN_LENGTH = 16;
/** The longest AUTH token the service accepts. */
export const AUTH_TOKEN_MAX_LENGTH = 128;
/** The only non-alphanumeric characters the service accepts in an AUTH token. */
export const AUTH_TOKEN_SPECIAL_CHARACTERS = '!&#$^<>-';

/**
 * The printable ASCII punctuation a generated AUTH token must exclude: everything except `!&#$^<>-`.
 * Spaces are excluded separately (Secrets Manager's `includeSpace: false`).
 */
export const AUTH_TOKEN_EXCLUDED_CHARACTERS = '"%\'()*+,./:;=?@[\\]_`{|}~';

/**
 * The problems with an AUTH token, empty when it is valid. Never includes the token itself.
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
 */
export function authTokenProblems(token: string): string[] {
  const problems: string[] = [];
  if (token.length < AUTH_TOKEN_MIN_LENGTH || token.length > AUTH_TOKEN_MAX_LENGTH) {
    problems.push(`must be ${AUTH_TOKEN_MIN_LENGTH} to ${AUTH_TOKEN_MAX_LENGTH} characters long, got ${token.length} characters`);
  }
  const bad = [...token].filter(c => !/^[A-Za-z0-9]$/.test(c) && !AUTH_TOKEN_SPECIAL_CHARACTERS.includes(c));
  if (bad.length > 0) {
    const shown = [...new Set(bad.map(c => (c === ' ' ? 'space' : /^[\x21-\x7e]$/.test(c) ? `'${c}'` : 'non-ASCII or non-printable')))];
    problems.push(`contains characters ElastiCache rejects, got ${shown.join(', ')}; `
      + `only letters, digits and ${AUTH_TOKEN_SPECIAL_CHARACTERS.split('').join(' ')} are allowed`);
  }
  return problems;
}

/** Node type names: `cache.<family>.<size>`, for example `cache.r7g.large`. */
export const NODE_TYPE_PATTERN = /^cache\.[a-z0-9]+\.[a-z0-9]+$/;

/** Whether the node type is a burstable (T-family) type, for example `cache.t4g.small`. */
export function isBurstableNodeType(nodeType: string): boolean {
  return /^cache\.t\d+[a-z]*\./.test(nodeType);
}

/** Whether the node type uses data tiering (memory + SSD), for example `cache.r6gd.xlarge`. */
export function isDataTieringNodeType(nodeType: string): boolean {
  return /^cache\.r\d+gd\./.test(nodeType);
}

/**
 * The AWS recommendation for `reserved-memory-percent` for a node type.
 *
 * 25 % in general ("the default value and recommended for most cases"); up to 30 % on small burstable nodes
 * (`cache.t*.small`) and up to 50 % on micro nodes; up to 50 % for write-heavy workloads on data tiering nodes
 * (`cache.r6gd.*`). Data tiering alone does not call for more than 25 %.
 *
 * @param writeHeavy whether the workload is write-heavy (only changes the answer for data tiering node types)
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html
 */
export function recommendedReservedMemoryPercent(nodeType: string, writeHeavy: boolean = false): number {
  if (/\.micro$/.test(nodeType) || (writeHeavy && isDataTieringNodeType(nodeType))) {
    return 50;
  }
  if (isBurstableNodeType(nodeType) && /\.small$/.test(nodeType)) {
    return 30;
  }
  return 25;
}

/**
 * Parameters that only Memcached parameter groups have; a Valkey or Redis OSS parameter group rejects them.
 */
export const MEMCACHED_ONLY_PARAMETERS = [
  'backlog_queue_limit',
  'binding_protocol',
  'cas_disabled',
  'chunk_size',
  'chunk_size_growth_factor',
  'disable_flush_all',
  'error_on_memory_exhausted',
  'hash_algorithm',
  'idle_timeout',
  'large_memory_pages',
  'lock_down_paged_memory',
  'lru_crawler',
  'lru_maintainer',
  'max_item_size',
  'max_simultaneous_connections',
  'maxconns_fast',
  'memcached_connections_overhead',
  'slab_automove',
  'slab_chunk_max',
  'slab_reassign',
  'track_sizes',
];
