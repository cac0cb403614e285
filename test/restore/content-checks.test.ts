import { checkContent, checkManifestContent, planContentVerification } from '../../lib/restore/content-checks';
import { parsePreflightProperties, PreflightRequest } from '../../lib/restore/preflight-properties';
import { manifestV2, verifiedShard } from '../manifest/fixtures';

const request = (clusterModeEnabled: boolean): PreflightRequest => parsePreflightProperties({
  Region: 'us-west-2',
  Engine: 'valkey',
  EngineVersion: '8.0',
  NodeType: 'cache.r7g.large',
  ShardCount: '2',
  ClusterModeEnabled: String(clusterModeEnabled),
  SourceKind: 'snapshot',
  SnapshotName: 's',
});
const URI = 's3://b/k-0001.rdb';
const verified = (databases: Array<{ db: number; keys: number; keysWithExpiry: number }>, checksum: 'ok' | 'disabled' = 'ok') => ({
  uri: URI, sizeBytes: 100, envelope: { status: 'ok' as const, checksum }, content: { status: 'verified' as const, keys: 3, databases, checksum },
});

describe('planContentVerification', () => {
  test('AUTO verifies while the estimate fits the budget: 85 MB/s plus 1 s per object over 4 streams', () => {
    // 850 MB in 2 objects: 10 s + 0.5 s.
    expect(planContentVerification('auto', 850e6, 2, 10.5)).toEqual({ verify: true });
    const above = planContentVerification('auto', 850e6, 2, 10.4);
    expect(above.verify).toBe(false);
    expect(above.warning).toBe(
      'the 2 .rdb object(s) total 0.792 GiB: verifying them in full would take about 11 s, more than the 10.4 s the preflight gives it, '
      + 'so only their size, header, EOF marker and CRC-64 trailer were checked: set verifyContent: RdbContentVerification.FULL on the source '
      + 'to verify every byte (the preflight then fails if it runs out of time), or verify the files beforehand with npx cdk-elasticache-backup verify',
    );
  });

  test('by default AUTO verifies about 50 GB in one object, and not 52 GB', () => {
    expect(planContentVerification('auto', 50e9, 1).verify).toBe(true);
    expect(planContentVerification('auto', 52e9, 1).verify).toBe(false);
  });

  test('FULL always verifies and ENVELOPE_ONLY never does, whatever the size, without a warning', () => {
    expect(planContentVerification('full', 1e15, 500)).toEqual({ verify: true });
    expect(planContentVerification('envelope-only', 1, 1)).toEqual({ verify: false });
  });
});

describe('checkContent', () => {
  test('keys only in database 0 pass into a cluster-mode-enabled group', () => {
    expect(checkContent(request(true), [verified([{ db: 0, keys: 3, keysWithExpiry: 0 }])])).toEqual({ failures: [], warnings: [] });
  });

  test('keys only in database 5 fail into a cluster-mode-enabled group, and pass into a disabled one', () => {
    const file = verified([{ db: 5, keys: 3, keysWithExpiry: 0 }]);
    expect(checkContent(request(true), [file]).failures).toEqual([
      `${URI} holds keys in a database other than 0 (db 5: 3 key(s)); a cluster-mode-enabled group has only database 0: `
      + 'ElastiCache refuses to restore one from a file that references more than one database, and a cluster does not load keys of any other database: '
      + 'restore into a cluster-mode-disabled group, or move the keys into database 0 on the source (MOVE, or a migration tool) and take a new backup',
    ]);
    expect(checkContent(request(false), [file])).toEqual({ failures: [], warnings: [] });
  });

  test('a zero trailer (rdbchecksum no) passes with a warning', () => {
    expect(checkContent(request(false), [verified([{ db: 0, keys: 3, keysWithExpiry: 0 }], 'disabled')]).warnings).toEqual([
      `${URI} was written with rdbchecksum no (its CRC-64 trailer is zero): its structure was verified to the end, but damage inside values cannot be detected`,
    ]);
  });

  test('an object that could not be streamed fails, with the way out', () => {
    expect(checkContent(request(false), [{ uri: URI, sizeBytes: 100, envelope: { status: 'ok', checksum: 'ok' }, content: { status: 'error', message: 'socket hang up' } }]).failures)
      .toEqual([`could not read ${URI} to verify its content: socket hang up: deploy again, or set verifyContent: RdbContentVerification.ENVELOPE_ONLY on the source to skip the full check`]);
  });

  test('an object whose first and last bytes could not be read fails', () => {
    expect(checkContent(request(false), [{ uri: URI, sizeBytes: 100, envelope: { status: 'error', message: 'AccessDenied' } }]).failures)
      .toEqual([`could not read the first and last bytes of ${URI} to check it: AccessDenied`]);
  });
});

describe('checkManifestContent', () => {
  const time = new Date('2026-11-20T03:15:00Z');
  const manifest = (databases?: Array<{ db: number; keys: number; keysWithExpiry: number }>) => manifestV2({
    group: 'orders',
    time,
    snapshotName: 's',
    exportName: 'x',
    shards: [verifiedShard('x-0001.rdb', 10, 'v', '"e"', databases ? { databases } : { verification: 'partial', databases: undefined })],
  });

  test('uses the keys per database the export verifier recorded', () => {
    expect(checkManifestContent(request(true), 'b', manifest([{ db: 0, keys: 2, keysWithExpiry: 1 }]))).toEqual({ failures: [], warnings: [] });
    expect(checkManifestContent(request(true), 'b', manifest([{ db: 0, keys: 1, keysWithExpiry: 1 }, { db: 1, keys: 1, keysWithExpiry: 0 }])).failures)
      .toEqual([expect.stringMatching(/^s3:\/\/b\/x-0001\.rdb holds keys in 2 databases \(db 0: 1 key\(s\), db 1: 1 key\(s\)\); /)]);
  });

  test('warns when a shard was verified partially (no database counts recorded)', () => {
    expect(checkManifestContent(request(true), 'b', manifest())).toEqual({
      failures: [],
      warnings: [
        'the databases used by 1 .rdb object(s) of the export are not recorded (verified partially: larger than the export verifier streams); '
        + 'ElastiCache fails a cluster-mode-enabled restore from a file with keys in a database other than 0',
      ],
    });
  });

  test('has nothing to say for a cluster-mode-disabled target', () => {
    expect(checkManifestContent(request(false), 'b', manifest([{ db: 3, keys: 2, keysWithExpiry: 1 }]))).toEqual({ failures: [], warnings: [] });
  });
});
