import {
  bucketRegion, checkExportBucketPolicy, checkFullProgress, checkGroupStatus, checkProbeReadBack, checkSnapshotListing, notificationWarning,
} from '../../lib/backup-plan/self-test-checks';

const principal = { Service: 'us-east-1.elasticache-snapshot.amazonaws.com' };
const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('self-test checks (pure)', () => {
  test.each([
    [undefined, 'us-east-1'],
    [null, 'us-east-1'],
    ['', 'us-east-1'],
    ['EU', 'eu-west-1'],
    ['ap-southeast-2', 'ap-southeast-2'],
  ])('GetBucketLocation %p is region %s', (constraint, region) => {
    expect(bucketRegion(constraint)).toBe(region);
  });

  test.each(['available', 'creating', 'modifying', 'snapshotting'])('status %s is usable', (status) => {
    expect(checkGroupStatus('g', 'us-east-1', { status, memberClusterIds: [] })).toBeUndefined();
  });

  test.each(['deleting', 'create-failed', 'incompatible-network', undefined])('status %s is not', (status) => {
    expect(checkGroupStatus('g', 'us-east-1', { status, memberClusterIds: [] })?.error).toBe(`the group's status is '${status ?? 'unknown'}', not available or creating`);
  });

  test('a policy granting s3:* on the bucket and its objects in one statement is enough', () => {
    const text = policy({ Effect: 'Allow', Principal: principal, Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] });
    expect(checkExportBucketPolicy(['g'], 'b', 'us-east-1', text)).toBeUndefined();
  });

  test('a policy in another partition (aws-cn ARNs) is read the same way', () => {
    const text = policy({ Effect: 'Allow', Principal: { Service: ['x.amazonaws.com', principal.Service] }, Action: ['s3:*'], Resource: ['arn:aws-cn:s3:::b', 'arn:aws-cn:s3:::b/*'] });
    expect(checkExportBucketPolicy(['g'], 'b', 'us-east-1', text)).toBeUndefined();
  });

  test('conditional and Deny statements do not count as grants; object actions on the bucket ARN do not cover objects', () => {
    const text = policy(
      { Effect: 'Allow', Principal: principal, Action: 's3:*', Resource: 'arn:aws:s3:::b', Condition: { StringEquals: { 'aws:SourceAccount': '1' } } },
      { Effect: 'Deny', Principal: principal, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Allow', Principal: principal, Action: ['s3:ListBucket', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads', 's3:PutObject'], Resource: 'arn:aws:s3:::b' },
    );
    expect(checkExportBucketPolicy(['g'], 'b', 'us-east-1', text)?.error).toBe('the policy does not allow us-east-1.elasticache-snapshot.amazonaws.com '
      + 's3:PutObject on its objects, s3:GetObject on its objects, s3:ListMultipartUploadParts on its objects');
  });

  test('a policy that is not JSON is reported as such', () => {
    expect(checkExportBucketPolicy(['g'], 'b', 'us-east-1', '{')?.error).toMatch(/^the policy is not JSON \(SyntaxError: /);
  });

  test('automatic backups seen only by the group listing pass, and the note says so', () => {
    const snap = { name: 'automatic.g-2026-12-01-03-00', source: 'system', replicationGroupId: 'g' };
    const result = checkSnapshotListing('g', ['g-001'], { byGroup: [snap], byMember: [], unfilteredAutomatic: [snap] });
    expect(result.finding).toBeUndefined();
    expect(result.note).toBe("automatic backups of 'g': 1 in the region; the listing by group sees 1, the listing by member cluster (g-001) sees 0");
  });

  test('another group\'s automatic backups are not expected (g vs g-eu)', () => {
    const other = { name: 'automatic.g-eu-001-2026-12-01-03-00', source: 'system', cacheClusterId: 'g-eu-001' };
    expect(checkSnapshotListing('g', ['g-001'], { byGroup: [], byMember: [], unfilteredAutomatic: [other] }).finding).toBeUndefined();
  });

  test('a group without automatic backups passes', () => {
    expect(checkSnapshotListing('g', ['g-001'], { byGroup: [], byMember: [], unfilteredAutomatic: [] }).finding).toBeUndefined();
  });

  test('a probe read back with other content is a finding', () => {
    expect(checkProbeReadBack(['g'], 'b', 'state/k', 'abc', 'abd')?.error).toBe('read 3 different bytes instead of the 3 bytes written');
    expect(checkProbeReadBack(['g'], 'b', 'state/k', 'abc', 'abc')).toBeUndefined();
  });

  test('the plan\'s own topic gives no warning; none or another does', () => {
    expect(notificationWarning('g', 'arn:t', 'arn:t')).toBeUndefined();
    expect(notificationWarning('g', undefined, 'arn:t')).toContain('sends its events to no topic');
  });

  test('FULL progress: a manifest of another backup does not count; the wait ends the test', () => {
    const target = { replicationGroupId: 'g', snapshotName: 'ceb-a-b1' };
    const other = { formatVersion: 2, snapshotName: 'ceb-a-b0', shards: [{ key: 'k', verifiedAt: 'x', verification: 'full' }] };
    expect(checkFullProgress(target, { manifest: other, snapshotStatus: 'available', elapsedSeconds: 10, waitSeconds: 60 })).toEqual({ state: 'waiting' });
    expect(checkFullProgress(target, { manifest: other, snapshotStatus: 'available', elapsedSeconds: 60, waitSeconds: 60 }).state).toBe('failed');
  });
});
