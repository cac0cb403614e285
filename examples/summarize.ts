/**
 * Prints a short summary of a synthesized cloud assembly: stacks, resource counts, and for each
 * replication group its backup settings; for each bucket its replication; for each backup plan its schedule.
 *
 * Usage: ts-node examples/summarize.ts cdk.out
 */
import * as fs from 'fs';
import * as path from 'path';

interface Template {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] | string }>;
}

function main(outdir: string): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const stacks = Object.entries<any>(manifest.artifacts ?? {})
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  console.log(`Synthesized ${stacks.length} stacks into ${outdir}/`);
  for (const [name, artifact] of stacks) {
    const template: Template = JSON.parse(fs.readFileSync(path.join(outdir, artifact.properties.templateFile), 'utf8'));
    const resources = Object.entries(template.Resources ?? {});
    const bytes = fs.statSync(path.join(outdir, artifact.properties.templateFile)).size;
    console.log(`\n${name} (${artifact.environment.replace('aws://', '')}): ${resources.length} resources, template ${(bytes / 1024).toFixed(1)} KiB`);
    for (const [logicalId, resource] of resources) {
      const p = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::ElastiCache::ReplicationGroup': {
          const seed = p.SnapshotArns ? 'seeded from .rdb ARNs' : p.SnapshotName ? `seeded from snapshot ${JSON.stringify(p.SnapshotName)}` : undefined;
          console.log(`  replication group ${JSON.stringify(p.ReplicationGroupId ?? logicalId)}: ${p.Engine} ${p.EngineVersion}, ${p.CacheNodeType}, `
            + `${p.NumNodeGroups ?? p.NodeGroupConfiguration?.length ?? 1} shard(s) x ${(p.ReplicasPerNodeGroup ?? p.NumCacheClusters - 1) || 0} replica(s)`);
          console.log(`    backups: retention ${p.SnapshotRetentionLimit ?? 0} days, window ${p.SnapshotWindow ?? 'auto'} UTC, `
            + `from ${p.SnapshottingClusterId ?? 'primary'}; maintenance ${p.PreferredMaintenanceWindow ?? 'auto'}; `
            + `on delete: ${resource.DeletionPolicy ?? 'Delete'}`);
          console.log(`    encryption at rest ${p.AtRestEncryptionEnabled}, in transit ${p.TransitEncryptionEnabled}, Multi-AZ ${p.MultiAZEnabled}`
            + (seed ? `; ${seed}${resource.DependsOn ? ' after preflight' : ''}` : ''));
          break;
        }
        case 'AWS::S3::Bucket': {
          const rules = p.ReplicationConfiguration?.Rules ?? [];
          if (rules.length > 0) {
            const rtc = rules.some((r: any) => r.Destination?.ReplicationTime?.Status === 'Enabled');
            console.log(`  export bucket ${logicalId}: replicates to ${rules.length} bucket(s)${rtc ? ' with 15-minute Replication Time Control' : ''}`);
          } else if (p.ObjectLockEnabled) {
            console.log(`  replica bucket ${logicalId}: Object Lock ${JSON.stringify(p.ObjectLockConfiguration?.Rule?.DefaultRetention ?? {})}`);
          }
          break;
        }
        case 'AWS::Events::Rule':
          if (p.ScheduleExpression) {
            console.log(`  schedule ${logicalId}: ${p.ScheduleExpression}`);
          }
          break;
        case 'AWS::CloudWatch::Alarm':
          console.log(`  alarm ${logicalId}: ${p.MetricName ?? 'math'} ${p.ComparisonOperator} ${p.Threshold}`);
          break;
        case 'AWS::StepFunctions::StateMachine': {
          const definition = JSON.stringify(p.DefinitionString);
          const drill = definition.includes('createReplicationGroup') ? ': restore drill (creates, checks and deletes ceb-drill-* groups only)' : '';
          console.log(`  state machine ${logicalId}${drill}`);
          break;
        }
        default:
          break;
      }
    }
  }
}

main(process.argv[2] ?? 'cdk.out');
