/**
 * Synth time and template size per protected replication group.
 *
 *   npx ts-node -P benchmarks/tsconfig.json benchmarks/synth.ts
 *
 * One stack holds a VPC, an export bucket, N replication groups and one BackupPlan protecting all of them.
 * CloudFormation caps a stack at 500 resources and a template at 1 MB (S3-uploaded), so this tells how many
 * groups fit in one stack. Writes benchmarks/results/synth.md.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BackupExportBucket, BackupPlan, ReplicationGroup } from '../lib';

const GROUP_COUNTS = [1, 5, 10, 20, 40];
const RUNS = 3;
const RESOURCE_LIMIT = 500;
const TEMPLATE_LIMIT_BYTES = 1_000_000;

interface Measurement {
  readonly groups: number;
  readonly medianMs: number;
  readonly resources: number;
  readonly templateBytes: number;
}

function synthOnce(groups: number): { ms: number; resources: number; templateBytes: number } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecb-bench-synth-'));
  const started = process.hrtime.bigint();
  const app = new App({ outdir, context: { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true } });
  const stack = new Stack(app, 'Bench', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const exportBucket = new BackupExportBucket(stack, 'Exports');
  const plan = new BackupPlan(stack, 'Plan', { exportBucket });
  for (let i = 0; i < groups; i++) {
    const group = new ReplicationGroup(stack, `Cache${i}`, { vpc, replicationGroupId: `bench-cache-${i}` });
    plan.protect(group, { interval: Duration.minutes(75) });
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const artifact = assembly.getStackByName('Bench');
  const templateBytes = fs.statSync(path.join(assembly.directory, artifact.templateFile)).size;
  const resources = Object.keys(artifact.template.Resources).length;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, resources, templateBytes };
}

function main(): void {
  synthOnce(1); // warm-up: module loading and JIT
  const rows: Measurement[] = [];
  for (const groups of GROUP_COUNTS) {
    const runs = Array.from({ length: RUNS }, () => synthOnce(groups));
    const times = runs.map((r) => r.ms).sort((a, b) => a - b);
    rows.push({ groups, medianMs: times[Math.floor(RUNS / 2)], resources: runs[0].resources, templateBytes: runs[0].templateBytes });
  }
  const [first, last] = [rows[0], rows[rows.length - 1]];
  const resourcesPerGroup = (last.resources - first.resources) / (last.groups - first.groups);
  const bytesPerGroup = (last.templateBytes - first.templateBytes) / (last.groups - first.groups);
  const fixedResources = first.resources - resourcesPerGroup;
  const maxGroups = Math.floor(Math.min(
    (RESOURCE_LIMIT - fixedResources) / resourcesPerGroup,
    (TEMPLATE_LIMIT_BYTES - (first.templateBytes - bytesPerGroup)) / bytesPerGroup,
  ));

  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const lines = [
    '# Synth time and template size per protected group',
    '',
    'Produced by `npx ts-node -P benchmarks/tsconfig.json benchmarks/synth.ts`: one stack with a VPC, a `BackupExportBucket`,',
    `N \`ReplicationGroup\`s and one \`BackupPlan\` protecting all of them (interval 75 minutes). Median of ${RUNS} in-process synths after a warm-up.`,
    '',
    `Machine: ${cpu.trim()}, nproc ${os.cpus().length}, Node ${process.version}, ${os.platform()} ${os.release()}. Measured ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| groups | synth median ms | resources | template KiB |',
    '|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.groups} | ${r.medianMs.toFixed(0)} | ${r.resources} | ${(r.templateBytes / 1024).toFixed(1)} |`),
    '',
    `Each protected group adds ${resourcesPerGroup.toFixed(1)} resources and ${(bytesPerGroup / 1024).toFixed(1)} KiB of template; `
      + `the fixed part (VPC, buckets, plan) is about ${fixedResources.toFixed(0)} resources. `
      + `CloudFormation's limits (${RESOURCE_LIMIT} resources, 1 MB template) allow about **${maxGroups} groups per stack**; `
      + 'the resource count is the binding limit.',
    '',
  ];
  const out = path.join(__dirname, 'results', 'synth.md');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, lines.join('\n'));
  console.log(lines.join('\n'));
}

main();
