/**
 * The state store's conditional writes through `AwsReconcileIo`: against moto_server, which honours If-Match and
 * If-None-Match on PutObject (412 PreconditionFailed; If-Match on a missing key: 404 NoSuchKey), and with
 * aws-sdk-client-mock for S3's 409 ConditionalRequestConflict, which moto does not produce.
 */
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { legacyStateKey, stateKey } from '../../lib/backup-plan/constants';
import { emptyState } from '../../lib/backup-plan/planner/types';
import { AwsReconcileIo } from '../../lib/backup-plan/reconcile.lambda';
import { isConditionFailure, loadState, saveState } from '../../lib/backup-plan/state-store';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const BUCKET = 'exports';
const KEY = stateKey('orders', 'plan-1');
const ELASTICACHE = new ElastiCacheClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
const withRecord = (name: string) => ({ ...emptyState(), created: [{ name, at: '2026-03-10T12:00:00.000Z' }] });

describeWithTool('moto_server')('state store on moto_server (real conditional PutObject)', () => {
  let moto: MotoS3;
  let io: AwsReconcileIo;

  beforeAll(async () => {
    moto = await MotoS3.start();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    const s3 = moto.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    io = new AwsReconcileIo({ elasticache: ELASTICACHE, s3, region: 'us-east-1', bucketName: BUCKET, account: '111111111111' });
  });

  test('creates with If-None-Match, updates with If-Match; a stale ETag and a second create are refused with 412', async () => {
    const fresh = await loadState(io, 'orders', 'plan-1');
    expect(fresh.origin).toBe('fresh');
    const first = await saveState(io, fresh, withRecord('a'));
    expect(first.etag).toMatch(/^".+"$/);
    // A second writer that also saw no object cannot create it.
    const lost = await saveState(io, fresh, withRecord('b')).catch((e) => e);
    expect(lost.name).toBe('PreconditionFailed');
    expect(lost.$metadata.httpStatusCode).toBe(412);
    expect(isConditionFailure(lost)).toBe(true);
    // An update on the version read succeeds; one on the older version is refused.
    const read = await loadState(io, 'orders', 'plan-1');
    expect(read).toMatchObject({ origin: 'current', etag: first.etag });
    const second = await saveState(io, read, withRecord('c'));
    expect(second.etag).not.toBe(first.etag);
    const stale = await saveState(io, read, withRecord('d')).catch((e) => e);
    expect(isConditionFailure(stale)).toBe(true);
    expect((await loadState(io, 'orders', 'plan-1')).state.created.map((c) => c.name)).toEqual(['c']);
  });

  test('If-Match on a key deleted meanwhile fails (404 NoSuchKey), which counts as a failed condition', async () => {
    const created = await saveState(io, await loadState(io, 'orders', 'plan-1'), withRecord('a'));
    await moto.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'unrelated', Body: 'x' }));
    const gone = { ...created, key: stateKey('orders', 'plan-2') };
    const error = await saveState(io, gone, withRecord('b')).catch((e) => e);
    expect(error.name).toBe('NoSuchKey');
    expect(isConditionFailure(error)).toBe(true);
  });

  test('the state read carries S3\'s LastModified; a rewrite of the same state (rewrite = true) writes a new version', async () => {
    const before = Date.now();
    const first = await saveState(io, await loadState(io, 'orders', 'plan-1'), withRecord('a'));
    const read = await loadState(io, 'orders', 'plan-1');
    // S3 reports whole seconds: the clock-check evidence is within a second of the write (moto uses the real clock).
    expect(read.lastModified!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(read.lastModified!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await saveState(io, read, read.state)).toBe(read);
    const rewritten = await saveState(io, read, read.state, true);
    expect(rewritten.etag).toBeDefined();
    expect((await loadState(io, 'orders', 'plan-1')).etag).toBe(rewritten.etag);
    expect(first.text).toBe(rewritten.text);
  });

  test('the legacy key is read when the plan\'s key is absent; the write goes to the plan\'s key', async () => {
    await moto.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: legacyStateKey('orders'), Body: JSON.stringify({ formatVersion: 1, created: [] }) }));
    const legacy = await loadState(io, 'orders', 'plan-1');
    expect(legacy).toMatchObject({ origin: 'legacy', key: KEY });
    expect(legacy.etag).toBeUndefined();
    await saveState(io, legacy, withRecord('a'));
    expect(JSON.parse((await io.getText(KEY))!).created[0].name).toBe('a');
  });
});

describe('state store: S3\'s 409 ConditionalRequestConflict (aws-sdk-client-mock: moto never answers it)', () => {
  test('a 409 on PutObject is a failed condition; other errors are not', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('A conflicting conditional operation is currently in progress'), {
      name: 'ConditionalRequestConflict', $metadata: { httpStatusCode: 409 },
    }));
    const io = new AwsReconcileIo({ elasticache: ELASTICACHE, s3: new S3Client({ region: 'us-east-1' }), region: 'us-east-1', bucketName: BUCKET, account: '1' });
    const error = await io.putTextIf(KEY, '{}', { ifMatch: '"e1"' }).catch((e) => e);
    expect(isConditionFailure(error)).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ IfMatch: '"e1"', IfNoneMatch: undefined });
    expect(isConditionFailure(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))).toBe(false);
    s3.restore();
  });
});
