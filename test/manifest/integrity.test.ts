import { asV1, manifestV2, verifiedShard } from './fixtures';
import {
  checkManifestKey,
  checkObjectsAgainstManifest,
  describeProblems,
  FUTURE_TOLERANCE_MS,
  isVerifiedManifest,
  ObjectHead,
} from '../../lib/manifest/integrity';
import { BackupManifest } from '../../lib/manifest/manifest';

const time = new Date('2026-11-20T03:15:00Z');
const NOW = new Date('2026-11-21T00:00:00Z');
// Written out by hand, not computed with manifestKey(): the test must not reuse the code under test as its oracle.
const KEY = 'manifests/orders/20261120t031500z_automatic.orders-2026-11-20-03-15.json';
const EXPORT = 'orders-20261120t031500z';
const K1 = `${EXPORT}-0001.rdb`;
const K2 = `${EXPORT}-0002.rdb`;
const manifest = manifestV2({
  group: 'orders',
  time,
  snapshotName: 'automatic.orders-2026-11-20-03-15',
  exportName: EXPORT,
  shards: [verifiedShard(K1, 1000, 'ver-1', '"aaa"'), verifiedShard(K2, 2000, 'ver-2', '"bbb"')],
});

const head = (key: string, sizeBytes: number, versionId?: string, etag?: string): ObjectHead => ({ key, sizeBytes, versionId, etag });
const intactHeads = () => new Map<string, ObjectHead | undefined>([[K1, head(K1, 1000, 'ver-1', '"aaa"')], [K2, head(K2, 2000, 'ver-2', '"bbb"')]]);

describe('isVerifiedManifest', () => {
  test('a format 2 manifest whose every shard records a verification and a version is verified', () => {
    expect(isVerifiedManifest(manifest)).toBe(true);
  });

  test('a partially verified shard still counts (shards above the verifier limit)', () => {
    expect(isVerifiedManifest({ ...manifest, shards: [{ ...manifest.shards[0], verification: 'partial' }, manifest.shards[1]] })).toBe(true);
  });

  test('a format 1 manifest is never verified', () => {
    expect(isVerifiedManifest(asV1(manifest))).toBe(false);
  });

  test('one shard without a verification or without a version makes the manifest unverified', () => {
    expect(isVerifiedManifest({ ...manifest, shards: [{ ...manifest.shards[0], verification: undefined }, manifest.shards[1]] })).toBe(false);
    expect(isVerifiedManifest({ ...manifest, shards: [manifest.shards[0], { ...manifest.shards[1], versionId: undefined }] })).toBe(false);
  });
});

describe('checkManifestKey', () => {
  test('accepts a manifest stored under the key its content names', () => {
    expect(checkManifestKey(KEY, manifest, NOW)).toBeUndefined();
  });

  test('refuses a manifest whose content belongs under another key (planted or copied)', () => {
    const planted = 'manifests/orders/20261121t031500z_automatic.orders-2026-11-21-03-15.json';
    expect(checkManifestKey(planted, manifest, NOW)).toBe(
      'its content (group orders, snapshot automatic.orders-2026-11-20-03-15 taken 2026-11-20T03:15:00.000Z) belongs under '
      + `${KEY}, not under this key`,
    );
  });

  test('refuses a manifest of another group placed in this group\'s folder', () => {
    const other = { ...manifest, replicationGroupId: 'carts' };
    expect(checkManifestKey(KEY, other, NOW)).toMatch(/^its content \(group carts, .* belongs under manifests\/carts\/20261120t031500z_automatic\.orders-2026-11-20-03-15\.json, not under this key$/);
  });

  test('refuses a snapshot time in the future beyond the clock tolerance, and accepts one within it', () => {
    const early = new Date(time.getTime() - FUTURE_TOLERANCE_MS - 1000);
    expect(checkManifestKey(KEY, manifest, early)).toBe(`its snapshot time 2026-11-20T03:15:00.000Z is in the future (now ${early.toISOString()})`);
    // 10 minutes after the snapshot, the export time (snapshot + 10 min) is still in the future: refused for that.
    expect(checkManifestKey(KEY, manifest, new Date(time.getTime() - 60_000)))
      .toBe(`its export time 2026-11-20T03:25:00.000Z is in the future (now ${new Date(time.getTime() - 60_000).toISOString()})`);
    expect(checkManifestKey(KEY, manifest, new Date(time.getTime() + 6 * 60_000))).toBeUndefined();
  });

  test('refuses an export committed before its snapshot was taken', () => {
    const backwards = { ...manifest, exportTime: '2026-11-20T03:00:00.000Z' };
    expect(checkManifestKey(KEY, backwards, NOW)).toBe('its export time 2026-11-20T03:00:00.000Z is before its snapshot time 2026-11-20T03:15:00.000Z');
  });

  test('refuses a shard that is not an object of the manifest\'s export', () => {
    const foreign = { ...manifest, shards: [manifest.shards[0], { ...manifest.shards[1], key: 'other-20261120t031500z-0002.rdb' }] };
    expect(checkManifestKey(KEY, foreign, NOW)).toBe(`shard other-20261120t031500z-0002.rdb is not an object of export ${EXPORT}`);
  });
});

describe('checkObjectsAgainstManifest', () => {
  test('intact objects: no problem', () => {
    expect(checkObjectsAgainstManifest(manifest, intactHeads(), 'replica')).toEqual([]);
  });

  test('an object overwritten after the commit: the message names the version to copy back, and how', () => {
    const heads = intactHeads();
    heads.set(K2, head(K2, 2000, 'ver-9', '"zzz"'));
    expect(checkObjectsAgainstManifest(manifest, heads, 'replica')).toEqual([{
      key: K2,
      reason: 'current version is ver-9 (2000 bytes), but the manifest verified version ver-2 (2000 bytes): the object was overwritten after the commit. '
        + 'Version ver-2 is the one to copy back: make it current again by deleting the newer version '
        + `(aws s3api delete-object --bucket replica --key ${K2} --version-id ver-9; copy that version elsewhere first if it matters), `
        + `or copy it back over the object (aws s3api copy-object --bucket replica --key ${K2} --copy-source "replica/${K2}?versionId=ver-2") `
        + 'and restore with BackupSource.fromRdbObjects, which verifies the content itself; or restore from another export',
    }]);
  });

  test('an object replaced while versioning was off: still names the verified version', () => {
    const heads = intactHeads();
    heads.set(K1, head(K1, 5, undefined));
    const [problem] = checkObjectsAgainstManifest(manifest, heads, 'replica');
    expect(problem.reason).toMatch(/^current version is \(none: versioning off\?\) \(5 bytes\), but the manifest verified version ver-1 \(1000 bytes\): .* Version ver-1 is the one to copy back: copy it back over the object/);
  });

  test('a deleted object: the message says it does not exist and how to bring the verified version back', () => {
    const heads = intactHeads();
    heads.delete(K1);
    expect(checkObjectsAgainstManifest(manifest, heads, 'replica')).toEqual([{
      key: K1,
      reason: 'object does not exist (deleted, expired by a lifecycle rule, or not replicated yet); '
        + `if version ver-1 is still listed (aws s3api list-object-versions --bucket replica --prefix ${K1}), `
        + 'a delete marker hides it: delete the delete marker (delete-object with its --version-id) and it is current again',
    }]);
  });

  test('a size change under the same version is reported with both sizes', () => {
    const heads = intactHeads();
    heads.set(K1, head(K1, 999, 'ver-1', '"aaa"'));
    expect(checkObjectsAgainstManifest(manifest, heads)).toEqual([{ key: K1, reason: 'size is 999 bytes, but the manifest recorded 1000' }]);
  });

  test('an empty object under the same version is reported as empty', () => {
    const heads = intactHeads();
    heads.set(K1, head(K1, 0, 'ver-1'));
    expect(checkObjectsAgainstManifest(manifest, heads)).toEqual([{ key: K1, reason: 'object is empty (0 bytes)' }]);
  });

  test('an ETag change is reported; quotes and weak markers do not count as a change', () => {
    const heads = intactHeads();
    heads.set(K1, head(K1, 1000, 'ver-1', 'W/aaa'));
    heads.set(K2, head(K2, 2000, 'ver-2', '"ccc"'));
    expect(checkObjectsAgainstManifest(manifest, heads)).toEqual([{ key: K2, reason: 'ETag is "ccc", but the manifest recorded "bbb"' }]);
  });

  test('every problem is reported, in shard order', () => {
    const heads = new Map<string, ObjectHead | undefined>();
    expect(checkObjectsAgainstManifest(manifest, heads).map((p) => p.key)).toEqual([K1, K2]);
  });

  test('a format 1 manifest pins no version: only existence and size are compared', () => {
    const v1: BackupManifest = asV1(manifest);
    const heads = new Map<string, ObjectHead | undefined>([[K1, head(K1, 1000, 'anything')], [K2, head(K2, 1999)]]);
    expect(checkObjectsAgainstManifest(v1, heads)).toEqual([{ key: K2, reason: 'size is 1999 bytes, but the manifest recorded 2000' }]);
  });

  test('describeProblems puts every problem on one line after the manifest location', () => {
    expect(describeProblems('s3://replica/m.json', [{ key: 'a', reason: 'x' }, { key: 'b', reason: 'y' }])).toBe('s3://replica/m.json: a: x; b: y');
  });
});
