/**
 * Does a bucket policy let the regional ElastiCache service principal read seed objects? (pure)
 *
 * ElastiCache reads `.rdb` seed objects as `<region>.elasticache-snapshot.amazonaws.com` and needs
 * `s3:GetObject` on each object and `s3:ListBucket` + `s3:GetBucketAcl` on the bucket (elasticache-facts §4.1).
 * This is a deliberately small evaluator: Allow statements whose principal names that service (or `*`),
 * with `Action`/`NotAction` and `Resource`/`NotResource` wildcards. Conditions on Allow statements are assumed
 * to hold (the usual ones, `aws:SourceAccount` / `aws:SourceArn`, do for a restore in the same account);
 * Deny statements count only when they have no condition (an SSL-only Deny never applies to the service).
 */

/** Actions ElastiCache needs on the bucket itself. */
export const SEED_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketAcl'] as const;
/** Actions ElastiCache needs on each seed object. */
export const SEED_OBJECT_ACTIONS = ['s3:GetObject'] as const;

/** The regional service principal ElastiCache uses to read seed objects. */
export function elastiCacheSnapshotPrincipal(region: string): string {
  return `${region}.elasticache-snapshot.amazonaws.com`;
}

export interface PolicyVerdict {
  /** Bucket actions the principal is not granted. */
  readonly missingBucketActions: string[];
  /** Object ARNs the principal cannot `s3:GetObject`. */
  readonly unreadableObjectArns: string[];
  /** Sids (or indexes) of unconditional Deny statements that block the principal. */
  readonly deniedBy: string[];
}

interface Statement {
  readonly Sid?: unknown;
  readonly Effect?: unknown;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

/** The policy text is not JSON, or not a policy. */
export class PolicyParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyParseError';
  }
}

/**
 * Evaluates a bucket policy for the ElastiCache seed principal.
 *
 * @param policyText the bucket policy document (JSON), or undefined when the bucket has none
 */
export function evaluateSeedAccess(policyText: string | undefined, principal: string, bucketArn: string, objectArns: string[]): PolicyVerdict {
  const statements = policyText === undefined ? [] : parseStatements(policyText);
  const allows = (action: string, resource: string) =>
    statements.some((s) => s.Effect === 'Allow' && principalMatches(s, principal) && actionMatches(s, action) && resourceMatches(s, resource));
  const denyingStatements = statements
    .map((s, i) => ({ s, name: typeof s.Sid === 'string' && s.Sid ? s.Sid : `Statement[${i}]` }))
    .filter(({ s }) => s.Effect === 'Deny' && s.Condition === undefined && principalMatches(s, principal));
  const denied = (action: string, resource: string) =>
    denyingStatements.filter(({ s }) => actionMatches(s, action) && resourceMatches(s, resource)).map(({ name }) => name);

  const deniedBy = new Set<string>();
  const missingBucketActions: string[] = [];
  for (const action of SEED_BUCKET_ACTIONS) {
    const d = denied(action, bucketArn);
    d.forEach((n) => deniedBy.add(n));
    if (d.length > 0 || !allows(action, bucketArn)) {
      missingBucketActions.push(action);
    }
  }
  const unreadableObjectArns: string[] = [];
  for (const arn of objectArns) {
    const d = denied(SEED_OBJECT_ACTIONS[0], arn);
    d.forEach((n) => deniedBy.add(n));
    if (d.length > 0 || !allows(SEED_OBJECT_ACTIONS[0], arn)) {
      unreadableObjectArns.push(arn);
    }
  }
  return { missingBucketActions, unreadableObjectArns, deniedBy: [...deniedBy] };
}

/**
 * The bucket policy statement that grants ElastiCache read access for seeding.
 *
 * Up to 10 objects are listed one by one; more become `<bucket>/*`.
 */
export function seedReadStatement(principal: string, bucketArn: string, objectArns: string[]): Record<string, unknown> {
  const objects = objectArns.length > 10 ? [`${bucketArn}/*`] : objectArns;
  return {
    Sid: 'ElastiCacheSeedRead',
    Effect: 'Allow',
    Principal: { Service: principal },
    Action: [...SEED_OBJECT_ACTIONS, ...SEED_BUCKET_ACTIONS],
    Resource: [bucketArn, ...objects],
  };
}

function parseStatements(policyText: string): Statement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(policyText);
  } catch (e) {
    throw new PolicyParseError(`the bucket policy is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null) {
    throw new PolicyParseError('the bucket policy is not a JSON object');
  }
  const raw = (doc as { Statement?: unknown }).Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter((s): s is Statement => typeof s === 'object' && s !== null);
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function principalMatches(s: Statement, principal: string): boolean {
  if (s.NotPrincipal !== undefined) {
    return false; // NotPrincipal is rare and easy to get wrong: do not count it as a grant or a deny
  }
  const p = s.Principal;
  if (p === '*') {
    return true;
  }
  if (typeof p !== 'object' || p === null) {
    return false;
  }
  const record = p as Record<string, unknown>;
  return asList(record.Service).some((svc) => svc === principal) || asList(record.AWS).includes('*');
}

function actionMatches(s: Statement, action: string): boolean {
  if (s.Action !== undefined) {
    return asList(s.Action).some((pattern) => wildcardMatch(pattern, action, true));
  }
  if (s.NotAction !== undefined) {
    return !asList(s.NotAction).some((pattern) => wildcardMatch(pattern, action, true));
  }
  return false;
}

function resourceMatches(s: Statement, resource: string): boolean {
  if (s.Resource !== undefined) {
    return asList(s.Resource).some((pattern) => wildcardMatch(pattern, resource, false));
  }
  if (s.NotResource !== undefined) {
    return !asList(s.NotResource).some((pattern) => wildcardMatch(pattern, resource, false));
  }
  return false;
}

/** IAM wildcards: `*` any run of characters, `?` one character. Actions compare case-insensitively. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Iterative glob match (no regex: patterns come from user policies).
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') {
    pi++;
  }
  return pi === p.length;
}
