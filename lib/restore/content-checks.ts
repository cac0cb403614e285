/**
 * The restore preflight's decisions about the CONTENT of `.rdb` objects (pure): how much to verify within the
 * preflight's time budget, and which failures and warnings follow from the envelope check (size, magic, EOF opcode,
 * trailer), the full streaming verification and the keys per database. The handler observes; these functions decide.
 *
 * Why a cluster-mode-enabled target cares about databases: ElastiCache refuses to restore a cluster-mode-enabled group
 * from an `.rdb` file that references more than one database (backups-restoring, "your restore fails if the .rdb file
 * references more than one database"), and a cluster has only database 0. Only a full walk of the file knows which
 * databases hold keys, so the check needs full verification (or a manifest that recorded it).
 */
import type { PreflightRequest } from './preflight-properties';
import type { BackupManifest } from '../manifest/manifest';
import type { RdbDatabaseCount } from '../rdb/types';

/**
 * Assumed speed of streaming `.rdb` objects from S3 through the verifier in the preflight Lambda (1769 MB, one vCPU),
 * in bytes per second: the rate the AUTO time budget is computed with.
 *
 * Measured (benchmarks/results/rdb-verify.md, BENCHMARKS.md): the verifier walks 137 MB/s of the slowest dump (DEBUG
 * POPULATE, 1.16 GB) on the benchmark core, about 103 MB/s on a Lambda vCPU (x 0.75); one S3 GetObject stream gives
 * 85-90 MB/s (AWS, "Optimizing Amazon S3 Performance"). The lower of the two, 85 MB/s, bounds one stream; several
 * streams share the one vCPU, so 85 MB/s stays a safe figure for the total.
 */
export const ASSUMED_VERIFY_BYTES_PER_SECOND = 85e6;

/** Time per object beyond its bytes (GetObject request, first byte, verifier start), spread over the parallel streams. */
export const PER_OBJECT_VERIFY_SECONDS = 1;

/** Objects streamed through the verifier at the same time (overlaps S3 latency; the CPU is one vCPU). */
export const VERIFY_CONCURRENCY = 4;

/**
 * The preflight function's timeout in minutes: the custom resource framework waits at most 15 minutes for it. A FULL
 * verification stops a minute before, with a message.
 */
export const PREFLIGHT_TIMEOUT_MINUTES = 14;

/**
 * The preflight function's memory. Lambda gives one full vCPU at 1769 MB, and the verifier is bound by CPU; the
 * verifier's own memory stays flat in the file size.
 */
export const PREFLIGHT_MEMORY_MB = 1769;

/**
 * Seconds of the preflight's run that `RdbContentVerification.AUTO` may spend verifying content: 10 of the 14 minutes
 * (about 50 GB at the assumed rate). The rest is for the HEADs and ranged reads of every object, the bucket checks,
 * and room for a slower S3 or CPU than assumed.
 */
export const VERIFY_TIME_BUDGET_SECONDS = 10 * 60;

/** Estimated seconds to verify `objectCount` objects of `totalBytes` bytes in full. */
export function estimatedVerifySeconds(totalBytes: number, objectCount: number): number {
  return totalBytes / ASSUMED_VERIFY_BYTES_PER_SECOND + (objectCount * PER_OBJECT_VERIFY_SECONDS) / VERIFY_CONCURRENCY;
}

/** How a `fromRdbArns` / `fromRdbObjects` source's content is checked (see `RdbContentVerification`). */
export type ContentVerificationMode = 'auto' | 'full' | 'envelope-only';

export const CONTENT_VERIFICATION_MODES: readonly ContentVerificationMode[] = ['auto', 'full', 'envelope-only'];

/** What the envelope check (ranged GETs of head and tail) found. */
export type EnvelopeObservation =
  | { readonly status: 'ok'; readonly checksum: 'ok' | 'disabled' | 'absent' }
  | { readonly status: 'invalid'; readonly message: string; readonly offset: number }
  | { readonly status: 'error'; readonly message: string };

/** What the full, streaming verification found. */
export type ContentObservation =
  | {
    readonly status: 'verified';
    readonly keys: number;
    readonly databases: readonly RdbDatabaseCount[];
    readonly checksum: 'ok' | 'disabled' | 'absent';
  }
  | { readonly status: 'corrupt'; readonly message: string; readonly offset: number }
  /** The preflight's time ran out after `bytesRead` bytes. */
  | { readonly status: 'deadline'; readonly bytesRead: number; readonly sizeBytes: number }
  | { readonly status: 'error'; readonly message: string };

/** One object's content observations, by its `s3://` URI. */
export interface ContentFinding {
  readonly uri: string;
  readonly sizeBytes: number;
  readonly envelope?: EnvelopeObservation;
  readonly content?: ContentObservation;
}

export interface ContentPlan {
  /** Whether to stream and verify every object in full. */
  readonly verify: boolean;
  /** Why not, when AUTO decided against it (a warning for the user). */
  readonly warning?: string;
}

const GIB = 1024 ** 3;

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(bytes < GIB ? 3 : 2)} GiB`;
}

/**
 * Whether to verify every byte: always for FULL, never for ENVELOPE_ONLY, and for AUTO when the estimated time fits
 * the budget.
 */
export function planContentVerification(
  mode: ContentVerificationMode, totalBytes: number, objectCount: number, budgetSeconds: number = VERIFY_TIME_BUDGET_SECONDS,
): ContentPlan {
  if (mode === 'full') {
    return { verify: true };
  }
  if (mode === 'envelope-only') {
    return { verify: false };
  }
  const seconds = estimatedVerifySeconds(totalBytes, objectCount);
  if (seconds <= budgetSeconds) {
    return { verify: true };
  }
  return {
    verify: false,
    warning: `the ${objectCount} .rdb object(s) total ${gib(totalBytes)}: verifying them in full would take about ${Math.ceil(seconds)} s, `
      + `more than the ${budgetSeconds} s the preflight gives it, so only their size, header, EOF marker and CRC-64 trailer were checked: `
      + 'set verifyContent: RdbContentVerification.FULL on the source to verify every byte (the preflight then fails if it runs out of time), '
      + 'or verify the files beforehand with npx cdk-elasticache-backup verify',
  };
}

/**
 * Failures and warnings from the content of `.rdb` objects: a bad envelope (truncated, not ending in EOF + trailer),
 * corrupt content, a verification cut short by the time limit, and for a cluster-mode-enabled target, keys outside
 * database 0.
 */
export function checkContent(request: PreflightRequest, objects: readonly ContentFinding[]): { failures: string[]; warnings: string[] } {
  const failures: string[] = [];
  const warnings: string[] = [];
  for (const o of objects) {
    const envelope = o.envelope;
    if (envelope?.status === 'invalid') {
      failures.push(
        `${o.uri} (${o.sizeBytes} bytes) is not a complete RDB file: at byte ${envelope.offset}: ${withoutOffset(envelope.message)}; the upload or copy was cut short `
        + 'or the object was damaged, and the engine would refuse to load it: upload the whole file again, or restore from another backup',
      );
    } else if (envelope?.status === 'error') {
      failures.push(`could not read the first and last bytes of ${o.uri} to check it: ${envelope.message}`);
    }
    const contentFinding = checkOneContent(o);
    if (contentFinding?.failure) {
      failures.push(contentFinding.failure);
    }
    if (contentFinding?.warning) {
      warnings.push(contentFinding.warning);
    }
  }
  if (request.clusterModeEnabled) {
    failures.push(...databaseFailures(objects.flatMap((o) => (o.content?.status === 'verified' ? [{ where: o.uri, databases: o.content.databases }] : []))));
    const unknown = objects.filter((o) => o.content?.status !== 'verified' && o.envelope?.status === 'ok');
    if (unknown.length > 0 && failures.length === 0) {
      warnings.push(
        `the databases used by ${unknown.length} .rdb object(s) were not checked because their content was not verified in full; `
        + 'ElastiCache fails a cluster-mode-enabled restore from a file with keys in a database other than 0',
      );
    }
  }
  return { failures, warnings };
}

function checkOneContent(o: ContentFinding): { failure?: string; warning?: string } | undefined {
  const content = o.content;
  if (!content) {
    return undefined;
  }
  switch (content.status) {
    case 'corrupt':
      return {
        failure: `${o.uri} is corrupt: at byte ${content.offset}: ${withoutOffset(content.message)}; the engine would refuse to load it `
          + '(a restore from it ends in restore-failed): restore from another backup',
      };
    case 'deadline':
      return {
        failure: `the preflight ran out of time after verifying ${content.bytesRead} of the ${content.sizeBytes} bytes of ${o.uri} `
          + '(verifyContent is FULL): verify the files beforehand with npx cdk-elasticache-backup verify and deploy with '
          + 'verifyContent: RdbContentVerification.ENVELOPE_ONLY, or restore fewer or smaller files',
      };
    case 'error':
      return {
        failure: `could not read ${o.uri} to verify its content: ${content.message}: deploy again, or set verifyContent: RdbContentVerification.ENVELOPE_ONLY on the source to skip the full check`,
      };
    default:
      return content.checksum === 'disabled' ? {
        warning: `${o.uri} was written with rdbchecksum no (its CRC-64 trailer is zero): its structure was verified to the end, but damage inside values cannot be detected`,
      } : undefined;
  }
}

/** The verifier's messages start with `at byte N: `; the preflight's own message puts the offset in the same place. */
function withoutOffset(message: string): string {
  return message.replace(/^at byte \d+: /, '');
}

/** Objects that hold keys in a database other than 0, which a cluster-mode-enabled group cannot load. */
function databaseFailures(files: ReadonlyArray<{ where: string; databases: readonly RdbDatabaseCount[] }>): string[] {
  const failures: string[] = [];
  for (const f of files) {
    const used = f.databases.filter((d) => d.keys > 0);
    if (used.some((d) => d.db !== 0)) {
      const list = used.map((d) => `db ${d.db}: ${d.keys} key(s)`).join(', ');
      failures.push(
        `${f.where} holds keys in ${used.length === 1 ? 'a database other than 0' : `${used.length} databases`} (${list}); `
        + 'a cluster-mode-enabled group has only database 0: ElastiCache refuses to restore one from a file that references more than one database, '
        + 'and a cluster does not load keys of any other database: '
        + 'restore into a cluster-mode-disabled group, or move the keys into database 0 on the source (MOVE, or a migration tool) and take a new backup',
      );
    }
  }
  return failures;
}

/**
 * The same database check for an export chosen from its manifest (a fully verified shard recorded its keys per
 * database; a partially verified one did not: warn).
 */
export function checkManifestContent(
  request: PreflightRequest, bucket: string, manifest: BackupManifest,
): { failures: string[]; warnings: string[] } {
  if (!request.clusterModeEnabled) {
    return { failures: [], warnings: [] };
  }
  const known = manifest.shards.filter((s) => s.databases !== undefined);
  const failures = databaseFailures(known.map((s) => ({ where: `s3://${bucket}/${s.key}`, databases: s.databases! })));
  const unknown = manifest.shards.length - known.length;
  const warnings = unknown > 0 && failures.length === 0 ? [
    `the databases used by ${unknown} .rdb object(s) of the export are not recorded (verified partially: larger than the export verifier streams); `
    + 'ElastiCache fails a cluster-mode-enabled restore from a file with keys in a database other than 0',
  ] : [];
  return { failures, warnings };
}
