import { ACL, CONFIG, CONTROL, LONG, NOACL, at, state } from './fixtures';
import { parseEventBridgeMessage, parseSnsMessage } from './probe-events';
import { answerAll, isDone, planActions, sourceNodeBusy } from './probe-plan';

const ok = (minutes: number) => ({ at: at(minutes), ok: true });
const now = (minutes: number) => new Date(at(minutes));

describe('planActions', () => {
  test('a new run starts with the 40-character control backup from the replica', () => {
    expect(planActions(state(), CONFIG, {}, now(0))).toEqual([
      { kind: 'create', call: 'create-control', name: CONTROL, cacheClusterId: 'ecb-probe-002' },
    ]);
  });

  test('the 41-character backup waits until the node has finished the control backup', () => {
    const creating = state({ calls: { 'create-control': ok(0) }, snapshots: { [CONTROL]: { status: 'creating' } } });
    expect(sourceNodeBusy(creating)).toBe(true);
    expect(planActions(creating, CONFIG, {}, now(1))).toEqual([]);
    // Accepted but not listed yet counts as busy too.
    expect(sourceNodeBusy(state({ calls: { 'create-control': ok(0) } }))).toBe(true);
  });

  test('once the control is available: the long-name backup and the export without s3:GetBucketAcl', () => {
    const available = state({ calls: { 'create-control': ok(0) }, snapshots: { [CONTROL]: { status: 'available', availableAt: at(5) } } });
    expect(planActions(available, CONFIG, {}, now(6))).toEqual([
      { kind: 'create', call: 'create-long-name', name: LONG, cacheClusterId: 'ecb-probe-002' },
      { kind: 'copy', call: 'copy-without-acl', source: CONTROL, target: NOACL, bucket: 'probe-bucket', role: 'without-get-bucket-acl' },
    ]);
  });

  test('the export with s3:GetBucketAcl waits for the one without to arrive, be refused, or 20 minutes', () => {
    const base = {
      calls: { 'create-control': ok(0), 'create-long-name': ok(6), 'copy-without-acl': ok(6) },
      snapshots: { [CONTROL]: { status: 'available', availableAt: at(5) }, [LONG]: { status: 'available' } },
    };
    const withAcl = { kind: 'copy', call: 'copy-with-acl', source: CONTROL, target: ACL, bucket: 'probe-bucket', role: 'with-get-bucket-acl' };
    expect(planActions(state(base), CONFIG, {}, now(10))).toEqual([]);
    expect(planActions(state(base), CONFIG, {}, now(27))).toEqual([withAcl]);
    const arrived = state({ ...base, exports: { [NOACL]: { calledAt: at(6), firstSeenAt: at(9), keys: ['x'], sourceStatuses: [] } } });
    expect(planActions(arrived, CONFIG, {}, now(10))).toEqual([withAcl]);
  });

  test('quota backups only with the flag, after the main questions, one at a time', () => {
    const settled = state({
      calls: { 'create-control': ok(0), 'create-long-name': ok(6), 'copy-without-acl': ok(6), 'copy-with-acl': ok(30) },
      snapshots: { [CONTROL]: { status: 'available', availableAt: at(5) }, [LONG]: { status: 'available' } },
      exports: { [ACL]: { calledAt: at(30), firstSeenAt: at(33), keys: ['y'], sourceStatuses: [] } },
    });
    expect(planActions(settled, CONFIG, { quota: true }, now(40))).toEqual([
      { kind: 'create', call: 'quota', name: 'ecbprobe-abc123-q01', cacheClusterId: 'ecb-probe-002' },
    ]);
    const busy = state({ ...settled, quotaCreates: [ok(40)] });
    expect(planActions(busy, CONFIG, { quota: true }, now(41))).toEqual([]);
    const refused = state({ ...settled, quotaCreates: [{ at: at(40), ok: false, errorName: 'SnapshotQuotaExceededFault' }] });
    expect(planActions(refused, CONFIG, { quota: true }, now(41))).toEqual([
      {
        kind: 'copy',
        call: 'copy-after-quota-export',
        source: CONTROL,
        target: 'ecbprobe-abc123-quota-export',
        bucket: 'probe-bucket',
        role: 'with-get-bucket-acl',
      },
    ]);
  });

  test('once every snapshot question is settled, the probe deletes its available snapshots; the run is not done while one is left', () => {
    const settled = state({
      calls: {
        'create-control': ok(0),
        'create-long-name': { at: at(6), ok: false, errorName: 'InvalidParameterValueException' },
        'copy-without-acl': ok(6),
        'copy-with-acl': ok(30),
      },
      listing: { at: at(60), byGroup: [], byMember: { 'ecb-probe-002': [{ name: CONTROL }] } },
      snapshots: { [CONTROL]: { status: 'available', availableAt: at(5) } },
      events: [{ channel: 'sns', receivedAt: at(7), type: 'ElastiCache:SnapshotComplete', raw: '' }],
      exports: {
        [NOACL]: { calledAt: at(6), firstSeenAt: at(9), keys: ['x'], sourceStatuses: [] },
        [ACL]: { calledAt: at(30), firstSeenAt: at(33), keys: ['y'], sourceStatuses: [] },
      },
    });
    expect(planActions(settled, CONFIG, {}, now(60))).toEqual([{ kind: 'delete', name: CONTROL }]);
    const answers = answerAll(settled, CONFIG, {}, now(60));
    expect(isDone(settled, answers)).toBe(false);
    // Only the automatic-listing question stays pending (no automatic backup yet).
    expect(answers.filter((a) => a.status === 'pending').map((a) => a.question)).toEqual(['list-automatic-backup-of-member']);
  });

  test('the cleanup flag deletes available snapshots at once', () => {
    const s = state({ calls: { 'create-control': ok(0) }, snapshots: { [CONTROL]: { status: 'available' }, [LONG]: { status: 'creating' } } });
    expect(planActions(s, CONFIG, { cleanup: true }, now(1))).toEqual([{ kind: 'delete', name: CONTROL }]);
  });
});

describe('queue messages', () => {
  test('an SNS envelope with ElastiCache\'s JSON message gives one event per key', () => {
    const body = JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ 'ElastiCache:SnapshotComplete': 'ecb-probe-002' }) });
    expect(parseSnsMessage(body, at(1))).toEqual([
      { channel: 'sns', receivedAt: at(1), type: 'ElastiCache:SnapshotComplete', subject: 'ecb-probe-002', raw: '{"ElastiCache:SnapshotComplete":"ecb-probe-002"}' },
    ]);
  });

  test('an SNS message that is not JSON keeps its subject as the type', () => {
    const body = JSON.stringify({ Subject: 'ElastiCache notification', Message: 'Snapshot succeeded for snapshot with ID x' });
    expect(parseSnsMessage(body, at(1))[0]).toMatchObject({ type: 'ElastiCache notification', raw: 'Snapshot succeeded for snapshot with ID x' });
  });

  test('an EventBridge event gives its detail-type and source identifier', () => {
    const body = JSON.stringify({ 'source': 'aws.elasticache', 'detail-type': 'Snapshot Created', 'detail': { SourceIdentifier: CONTROL } });
    expect(parseEventBridgeMessage(body, at(2))[0]).toMatchObject({ channel: 'eventbridge', type: 'Snapshot Created', subject: CONTROL });
    expect(parseEventBridgeMessage('not json', at(2))[0]).toMatchObject({ type: 'unparsed', raw: 'not json' });
  });
});
