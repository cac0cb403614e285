import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { twoRegionApp } from './fixtures';
import { describeWithTool } from '../support/tools';

function lint(templateFile: string): { status: number | null; output: string } {
  const result = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', templateFile], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describeWithTool('cfn-lint')('cfn-lint on the synthesized two-region app', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-lint-'));
  });
  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  test.each([
    ['defaults', {}, {}],
    ['RTC, Object Lock, custom lifecycle, DESTROY with autoDeleteObjects', {
      replicationTimeControl: true, exportRetention: Duration.days(10), removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true,
    }, { objectLockRetention: Duration.days(30), retention: Duration.days(60), removalPolicy: RemovalPolicy.DESTROY }],
  ])('%s: both stacks lint clean', (name, exportProps, replicaProps) => {
    const dir = path.join(outdir, name.replace(/[^a-z]+/gi, '-'));
    const app = new App({ outdir: dir });
    const { primary, dr, exportBucket, replica } = twoRegionApp(exportProps, replicaProps, app);
    exportBucket.grantExport(new iam.Role(primary, 'Exporter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    replica.grantRead(new iam.Role(dr, 'Restorer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    const assembly = app.synth();
    const templates = [primary, dr].map(s => path.join(assembly.directory, assembly.getStackByName(s.stackName).templateFile));
    for (const template of templates) {
      const { status, output } = lint(template);
      expect({ template: path.basename(template), output }).toEqual({ template: path.basename(template), output: '' });
      expect(status).toBe(0);
    }
  });

  test('the linter is really checking: a broken template fails', () => {
    const bad = path.join(outdir, 'bad.template.json');
    fs.writeFileSync(bad, JSON.stringify({
      Resources: { B: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Sometimes' } } } },
    }));
    const { status, output } = lint(bad);
    expect(status).not.toBe(0);
    expect(output).toContain('E3030');
  });
});
