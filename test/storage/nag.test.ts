import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { twoRegionApp } from './fixtures';
import { BackupExportBucket } from '../../lib/storage/export-bucket';
import { addNagPacks } from '../support/nag';

interface Violation {
  readonly rule: string;
  readonly path: string;
}

/** Synthesizes with the four packs and returns every reported (unacknowledged) finding, of any severity. */
function nagFindings(build: (app: App) => void): Violation[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-nag-'));
  const app = new App({ outdir });
  addNagPacks(app);
  build(app);
  try {
    app.synth();
  } catch (e) {
    if (!String(e).startsWith('ValidationFailed')) {
      throw e;
    }
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
  const found: Violation[] = [];
  type PluginReport = { violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> };
  for (const plugin of report.pluginReports as PluginReport[]) {
    for (const v of plugin.violations) {
      for (const c of v.violatingConstructs) {
        found.push({ rule: v.ruleName, path: c.constructPath });
      }
    }
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  return found;
}

/** Acknowledgements recorded on a construct (rule id to reason). */
function acknowledgements(construct: IConstruct): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of construct.node.metadata.filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)) {
    for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
      out[id.replace(/^Annotation::/, '')] = reason;
    }
  }
  return out;
}

describe('cdk-nag (AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1)', () => {
  test('the packs are active: a plain bucket next to ours is reported', () => {
    const findings = nagFindings(app => {
      const { primary } = twoRegionApp({}, {}, app);
      new s3.Bucket(primary, 'Plain');
    });
    expect(findings).toEqual(expect.arrayContaining([
      { rule: 'AwsSolutions-S1', path: 'Primary/Plain/Resource' },
      { rule: 'NIST.800.53.R5-S3DefaultEncryptionKMS', path: 'Primary/Plain/Resource' },
    ]));
    expect(findings.filter(f => !f.path.startsWith('Primary/Plain/'))).toEqual([]);
  });

  test('two-region app with replication, RTC, Object Lock and grants has zero unacknowledged findings', () => {
    const findings = nagFindings(app => {
      const { primary, dr, exportBucket, replica } = twoRegionApp(
        { replicationTimeControl: true }, { objectLockRetention: Duration.days(7) }, app);
      const exporter = new iam.Role(primary, 'Exporter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      exportBucket.grantExport(exporter);
      exportBucket.grantRead(exporter);
      const restorer = new iam.Role(dr, 'Restorer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      replica.grantRead(restorer);
      // The grantee's inline default policy is the grantee's own layout (the app's role, not ours).
      for (const role of [exporter, restorer]) {
        for (const id of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy']) {
          Validations.of(role).acknowledge({ id, reason: 'test grantee: an application role outside this library' });
        }
      }
    });
    expect(findings).toEqual([]);
  });

  test('an export bucket without replicas keeps the replication findings (a real gap: no DR copy), nothing else', () => {
    const findings = nagFindings(app => {
      const primary = new Stack(app, 'Solo', { env: { account: '111111111111', region: 'us-east-1' } });
      new BackupExportBucket(primary, 'Exports');
    });
    expect(findings.sort((a, b) => a.rule.localeCompare(b.rule))).toEqual([
      { rule: 'HIPAA.Security-S3BucketReplicationEnabled', path: 'Solo/Exports/Bucket/Resource' },
      { rule: 'NIST.800.53.R5-S3BucketReplicationEnabled', path: 'Solo/Exports/Bucket/Resource' },
      { rule: 'PCI.DSS.321-S3BucketReplicationEnabled', path: 'Solo/Exports/Bucket/Resource' },
    ]);
  });

  test('acknowledgements sit on the exact resources, each with a reason', () => {
    const { exportBucket, replica, primary } = twoRegionApp();
    const grantee = new iam.Role(primary, 'Exporter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    exportBucket.grantExport(grantee);

    const kms = ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS'];
    const replication = ['NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled'];
    const logging = ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled', 'PCI.DSS.321-S3BucketLoggingEnabled'];

    expect(Object.keys(acknowledgements(exportBucket.bucket)).sort()).toEqual([...kms].sort());
    expect(Object.keys(acknowledgements(replica.bucket)).sort()).toEqual([...kms, ...replication].sort());
    expect(Object.keys(acknowledgements(exportBucket.accessLogsBucket!)).sort()).toEqual([...kms, ...replication, ...logging].sort());
    expect(Object.keys(acknowledgements(replica.accessLogsBucket!)).sort()).toEqual([...kms, ...replication, ...logging].sort());
    expect(Object.keys(acknowledgements(exportBucket)).sort()).toEqual([]);

    const policy = exportBucket.node.findChild('ReplicationPolicy');
    expect(Object.keys(acknowledgements(policy)).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::<ExportsBucket54D5CE64.Arn>/*]',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:s3:::[a-z0-9]+\/\*\]$/),
    ]);
    expect(Object.keys(acknowledgements(grantee)).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::<ExportsBucket54D5CE64.Arn>/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*]',
    ]);
    for (const construct of [exportBucket.bucket, replica.bucket, policy, grantee, exportBucket.accessLogsBucket!]) {
      for (const reason of Object.values(acknowledgements(construct))) {
        expect(reason.length).toBeGreaterThan(40);
      }
    }
  });
});
