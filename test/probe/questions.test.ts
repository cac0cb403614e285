import { ACL, CONFIG, CONTROL, LONG, NOACL, at, state } from './fixtures';
import { nameOfLength, probeNames } from './probe-state';
import {
  decideAutomaticListing, decideBucketAcl, decideEventDelivery, decideExportDuration, decideManualListing,
  decideMultiShardNumbering, decideNameLength, isPermissionRefusal,
} from './questions';

const ok = (minutes: number) => ({ at: at(minutes), ok: true });
const refused = (minutes: number, errorName: string, message = '') => ({ at: at(minutes), ok: false, errorName, message });

describe('probe names', () => {
  test('the control name has exactly 40 characters and the long name 41, both under the probe prefix', () => {
    const names = probeNames('abc123');
    expect(names.control).toBe(CONTROL);
    expect(names.control).toHaveLength(40);
    expect(names.longName).toBe(LONG);
    expect(names.longName).toHaveLength(41);
    expect(names.quota(3)).toBe('ecbprobe-abc123-q03');
  });

  test('a base longer than the length asked for is an error naming both', () => {
    expect(() => nameOfLength('x'.repeat(42), 41)).toThrow(/42 characters, longer than the 41/);
  });
});

describe('list by group vs by member (item 1)', () => {
  const control = { name: CONTROL, status: 'available', cacheClusterId: 'ecb-probe-002' };
  const listed = (byGroup: unknown[], member: unknown[]) => state({
    calls: { 'create-control': ok(0) },
    listing: { at: at(10), byGroup: byGroup as never, byMember: { 'ecb-probe-001': [], 'ecb-probe-002': member as never } },
  });

  test('a member backup listed only by member id means the group filter misses it', () => {
    expect(decideManualListing(listed([], [control]), CONFIG)).toMatchObject({ status: 'answered', answer: 'listed-by-member-only' });
  });

  test('a member backup listed both ways means the group filter finds it', () => {
    const withGroup = { ...control, replicationGroupId: 'ecb-probe' };
    expect(decideManualListing(listed([withGroup], [withGroup]), CONFIG))
      .toMatchObject({ status: 'answered', answer: 'listed-by-group-and-by-member' });
  });

  test('a backup listed only by group means the member filter misses it', () => {
    expect(decideManualListing(listed([control], []), CONFIG)).toMatchObject({ status: 'answered', answer: 'listed-by-group-only' });
  });

  test('pending while the backup is listed nowhere, inconclusive when its creation was refused', () => {
    expect(decideManualListing(listed([], []), CONFIG).status).toBe('pending');
    expect(decideManualListing(state(), CONFIG).status).toBe('pending');
    expect(decideManualListing(state({ calls: { 'create-control': refused(0, 'InvalidParameterValueException') } }), CONFIG).status)
      .toBe('inconclusive');
  });

  test('automatic backups: pending until one exists, then compared like manual ones', () => {
    expect(decideAutomaticListing(listed([], [control]), CONFIG)).toMatchObject({ status: 'pending' });
    expect(decideAutomaticListing(listed([], [control]), CONFIG).note).toContain('03:00-04:00');
    const automatic = { name: 'automatic.ecb-probe-002-2026-12-02-03-10', source: 'automated', cacheClusterId: 'ecb-probe-002' };
    expect(decideAutomaticListing(listed([], [automatic]), CONFIG)).toMatchObject({ status: 'answered', answer: 'listed-by-member-only' });
    expect(decideAutomaticListing(listed([automatic], [automatic]), CONFIG))
      .toMatchObject({ status: 'answered', answer: 'listed-by-group-and-by-member' });
  });
});

describe('41-character snapshot name (item 2)', () => {
  test('refused with a parameter error while 40 characters are accepted: the limit is enforced', () => {
    const s = state({ calls: { 'create-control': ok(0), 'create-long-name': refused(5, 'InvalidParameterValueException') } });
    expect(decideNameLength(s)).toMatchObject({ status: 'answered', answer: 'refused' });
  });

  test('accepted: no limit at 40', () => {
    expect(decideNameLength(state({ calls: { 'create-control': ok(0), 'create-long-name': ok(5) } })))
      .toMatchObject({ status: 'answered', answer: 'accepted' });
  });

  test('refused for another reason, or the control refused too: inconclusive; not asked yet: pending', () => {
    expect(decideNameLength(state({ calls: { 'create-control': ok(0), 'create-long-name': refused(5, 'SnapshotQuotaExceededFault') } })).status)
      .toBe('inconclusive');
    expect(decideNameLength(state({ calls: { 'create-control': refused(0, 'X'), 'create-long-name': refused(5, 'X') } })).status)
      .toBe('inconclusive');
    expect(decideNameLength(state({ calls: { 'create-control': ok(0) } })).status).toBe('pending');
  });
});

describe('CopySnapshot caller and s3:GetBucketAcl (item 3)', () => {
  const denied = refused(20, 'InvalidParameterValueException',
    'The authenticated user does not have sufficient permissions to perform the desired activity.');
  const arrived = (minutes: number) => ({ calledAt: at(minutes), firstSeenAt: at(minutes + 4), keys: ['k-0001.rdb'], sourceStatuses: [] });

  test('the guide\'s wording for a missing permission is recognised, a busy snapshot is not', () => {
    expect(isPermissionRefusal(denied)).toBe(true);
    expect(isPermissionRefusal(refused(1, 'AccessDenied'))).toBe(true);
    expect(isPermissionRefusal(refused(1, 'InvalidSnapshotStateFault', 'Snapshot is not in available state'))).toBe(false);
  });

  test('refused without it and accepted with it: required', () => {
    const s = state({ calls: { 'copy-without-acl': denied, 'copy-with-acl': ok(21) } });
    expect(decideBucketAcl(s, new Date(at(30)))).toMatchObject({ status: 'answered', answer: 'required' });
  });

  test('the export without it arrives: not required', () => {
    const s = state({ calls: { 'copy-without-acl': ok(20) }, exports: { [NOACL]: arrived(20) } });
    expect(decideBucketAcl(s, new Date(at(30)))).toMatchObject({ status: 'answered', answer: 'not-required' });
  });

  test('accepted without it but never arriving while the one with it arrives: required, failing later', () => {
    const s = state({
      calls: { 'copy-without-acl': ok(20), 'copy-with-acl': ok(40) },
      exports: { [NOACL]: { calledAt: at(20), sourceStatuses: [] }, [ACL]: arrived(40) },
    });
    expect(decideBucketAcl(s, new Date(at(60))).status).toBe('pending');
    expect(decideBucketAcl(s, new Date(at(20 + 121)))).toMatchObject({ status: 'answered', answer: 'required-export-fails-later' });
  });

  test('refused both ways: inconclusive (a setup problem, not an answer)', () => {
    const s = state({ calls: { 'copy-without-acl': denied, 'copy-with-acl': denied } });
    expect(decideBucketAcl(s, new Date(at(30))).status).toBe('inconclusive');
  });
});

describe('SNS vs EventBridge (item 4)', () => {
  const sns = { channel: 'sns' as const, receivedAt: at(12), type: 'ElastiCache:SnapshotComplete', subject: 'ecb-probe-002', raw: '' };
  const eb = { channel: 'eventbridge' as const, receivedAt: at(12), type: 'Snapshot Created', subject: CONTROL, raw: '' };
  const available = { [CONTROL]: { status: 'available', availableAt: at(10) } };

  test('only SNS after the grace period: sns-only', () => {
    const s = state({ snapshots: available, events: [sns] });
    expect(decideEventDelivery(s, new Date(at(20))).status).toBe('pending');
    expect(decideEventDelivery(s, new Date(at(26)))).toMatchObject({ status: 'answered', answer: 'sns-only' });
  });

  test('both channels: answered at once', () => {
    expect(decideEventDelivery(state({ snapshots: available, events: [sns, eb] }), new Date(at(11))))
      .toMatchObject({ status: 'answered', answer: 'sns-and-eventbridge' });
  });

  test('no SNS event and the topic inactive: ElastiCache refuses the topic policy', () => {
    const s = state({ snapshots: available, events: [eb], topicStatus: 'inactive' });
    expect(decideEventDelivery(s, new Date(at(30)))).toMatchObject({ status: 'answered', answer: 'sns-topic-inactive' });
  });

  test('only EventBridge, or nothing, after the grace period', () => {
    expect(decideEventDelivery(state({ snapshots: available, events: [eb] }), new Date(at(30))).answer).toBe('eventbridge-only');
    const unrelated = { ...sns, type: 'ElastiCache:CacheClusterProvisioningComplete' };
    expect(decideEventDelivery(state({ snapshots: available, events: [unrelated] }), new Date(at(30))).answer).toBe('neither');
  });
});

describe('export duration (item 5)', () => {
  test('seconds from the call to the object\'s LastModified, the longest export reported, busy source noticed', () => {
    const s = state({
      exports: {
        [NOACL]: {
          calledAt: at(0),
          firstSeenAt: at(3),
          lastModified: new Date(Date.parse(at(0)) + 150_000).toISOString(),
          keys: ['a'],
          bytes: 100,
          sourceStatuses: ['copying'],
        },
        [ACL]: { calledAt: at(10), firstSeenAt: at(11), keys: ['b'], bytes: 200, sourceStatuses: ['available'] },
        pending: { calledAt: at(20), sourceStatuses: [] },
      },
    });
    const answer = decideExportDuration(s);
    expect(answer).toMatchObject({ status: 'answered', answer: '150 s' });
    expect(answer.note).toContain('was seen in another status');
    expect(decideExportDuration(state()).status).toBe('pending');
  });
});

describe('multi-shard object numbering', () => {
  const cme = { ...CONFIG, cmeGroupId: 'ecb-probe-cme', cmeShards: 2 };
  const target = 'ecbprobe-abc123-cme-export';
  const withKeys = (keys: string[]) => state({
    calls: { 'copy-cme': ok(0) },
    exports: { [target]: { calledAt: at(0), firstSeenAt: at(5), keys, sourceStatuses: [] } },
  });

  test('skipped without the sharded group or without the flag', () => {
    expect(decideMultiShardNumbering(state(), CONFIG, { multiShard: true }, new Date(at(0))).status).toBe('skipped');
    expect(decideMultiShardNumbering(state(), cme, {}, new Date(at(0))).status).toBe('skipped');
  });

  test('-0001 and -0002 for two shards: numbered; other names: other-naming; fewer: pending', () => {
    const now = new Date(at(10));
    expect(decideMultiShardNumbering(withKeys([`${target}-0002.rdb`, `${target}-0001.rdb`]), cme, { multiShard: true }, now).answer)
      .toBe('numbered-0001-to-000N');
    expect(decideMultiShardNumbering(withKeys([`${target}-0001.rdb`, `${target}-1.rdb`]), cme, { multiShard: true }, now).answer)
      .toBe('other-naming');
    expect(decideMultiShardNumbering(withKeys([`${target}-0001.rdb`]), cme, { multiShard: true }, now).status).toBe('pending');
  });
});
