import { Aspects, CfnResource, CustomResource, Fn, IAspect, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct, IConstruct } from 'constructs';
import { BackupSource } from './backup-source';
import { A, ARN_CHUNK_RESOURCE_TYPE, ARNS_PER_CHUNK, P, PREFLIGHT_RESOURCE_TYPE } from './preflight-properties';
import { PreflightProvider } from './preflight-provider';
import { evenSlotRanges, MAX_SHARDS, nodeGroupId } from './slots';
import { ValidationError } from '../private/errors';
import { ReplicationGroup, ReplicationGroupProps } from '../replication-group/replication-group';

/**
 * Properties of a `ReplicationGroupFromBackup`.
 */
export interface ReplicationGroupFromBackupProps extends ReplicationGroupProps {
  /**
   * The backup to seed the new replication group with.
   */
  readonly source: BackupSource;

  /**
   * Whether the preflight fails (instead of warning) when the library's table cannot tell for sure that the
   * target engine reads the backup's RDB version (for example an RDB 11 file into ElastiCache's Redis OSS 7.1).
   *
   * @default false
   */
  readonly failOnUncertainCompatibility?: boolean;

  /**
   * Whether the preflight checks that the bucket policy lets the regional ElastiCache service principal
   * (`<region>.elasticache-snapshot.amazonaws.com`) read the `.rdb` objects.
   *
   * Turn this off when access is granted with object ACLs (the legacy method) instead of the bucket policy.
   *
   * @default true
   */
  readonly verifyBucketPolicy?: boolean;
}

/**
 * A replication group seeded from a backup: `.rdb` objects in S3, an ElastiCache snapshot, or the latest export
 * written by a `BackupPlan` (typically replicated to a bucket in another region).
 *
 * Before the group is created, a preflight custom resource checks the backup and fails the deployment, with what
 * to change, when an object is missing, empty, truncated or corrupt (it verifies the `.rdb` files: see
 * `RdbContentVerification`), changed since its export was verified, in another region, encrypted with SSE-KMS, not
 * readable by ElastiCache (it prints the bucket policy statement to add), written by a newer engine than the target,
 * larger than the new group's memory, or (into a cluster-mode-enabled group) holds keys in a database other than 0.
 * It reads only; a failed preflight creates nothing.
 *
 * With cluster mode enabled, the new group's shards get an even split of the hash slots (0-16383); the number of
 * shards may differ from the number of `.rdb` files.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const replicaBucket: s3.IBucket;
 * new ReplicationGroupFromBackup(this, 'Restored', {
 *   vpc,
 *   engine: CacheEngine.VALKEY_8_0,
 *   clusterMode: ClusterMode.ENABLED,
 *   shards: 3,
 *   source: BackupSource.latestExport(replicaBucket, 'orders'),
 * });
 */
export class ReplicationGroupFromBackup extends ReplicationGroup {
  /**
   * The preflight custom resource the group depends on.
   */
  public readonly preflight: CustomResource;

  /**
   * For `BackupSource.latestExport`: the manifest key of the export that was restored (resolved at deploy time).
   *
   * @attribute
   */
  public readonly restoredManifestKey?: string;

  /**
   * For `BackupSource.latestExport`: the snapshot time (ISO 8601) of the export that was restored: the point in time
   * the new group's data comes from.
   *
   * @attribute
   */
  public readonly restoredSnapshotTime?: string;

  constructor(scope: Construct, id: string, props: ReplicationGroupFromBackupProps) {
    super(scope, id, props);

    const bound = props.source._bind(this, this.shardCount);
    const problems = [...bound.problems];
    if (!this.clusterModeEnabled && bound.snapshotArns && bound.snapshotArns.length > 1) {
      problems.push(
        `'source' lists ${bound.snapshotArns.length} .rdb objects (a multi-shard backup), but a cluster-mode-disabled replication group can only be seeded from one: `
        + "set 'clusterMode: ClusterMode.ENABLED', or restore a single-shard backup",
      );
    }
    if (bound.kind === 'latestExport' && !this.clusterModeEnabled && bound.maxSourceShards !== undefined && bound.maxSourceShards > 1) {
      problems.push(`'source' latestExport maxSourceShards is ${bound.maxSourceShards}, but a cluster-mode-disabled replication group can only be seeded from one .rdb object`);
    }
    if (this.clusterModeEnabled && Token.isUnresolved(this.shardCount)) {
      problems.push("'shards' cannot be a deploy-time value when restoring: the hash slots of each new shard are computed at synth");
    }
    if (problems.length > 0) {
      throw new ValidationError(this, problems.length === 1 ? problems[0] : `${problems.length} invalid properties:\n- ${problems.join('\n- ')}`);
    }

    const cfn = this.node.defaultChild as elasticache.CfnReplicationGroup;
    const provider = PreflightProvider.getOrCreate(this);
    bound.grantRead(provider.onEventFunction);
    const stack = Stack.of(this);
    this.preflight = new CustomResource(this, 'Preflight', {
      serviceToken: provider.serviceToken,
      resourceType: PREFLIGHT_RESOURCE_TYPE,
      properties: {
        [P.region]: stack.region,
        [P.partition]: stack.partition,
        [P.engine]: this.engine.engineType,
        [P.engineVersion]: this.engine.engineVersion,
        [P.newestReadableRdbVersion]: this.engine.newestReadableRdbVersion ?? '',
        [P.rdbCompatibilityCertain]: this.engine.rdbCompatibilityCertain,
        [P.nodeType]: this.nodeType,
        [P.shardCount]: this.shardCount,
        [P.clusterModeEnabled]: this.clusterModeEnabled,
        [P.reservedMemoryPercent]: this.parameterGroup.parameters['reserved-memory-percent'] ?? '25',
        [P.failOnUncertainCompatibility]: props.failOnUncertainCompatibility ?? false,
        [P.verifyBucketPolicy]: props.verifyBucketPolicy ?? true,
        [P.groupCreateOnly]: Lazy.any({ produce: () => createOnlyProperties(cfn) }),
        ...bound.properties,
      },
    });
    // Grants must exist before the preflight runs.
    this.preflight.node.addDependency(provider.onEventFunction);

    if (bound.kind === 'snapshot') {
      cfn.snapshotName = bound.snapshotName;
    } else if (bound.kind === 'rdbArns') {
      cfn.snapshotArns = bound.snapshotArns;
    } else {
      cfn.snapshotArns = this.latestExportArns(provider, bound.bucket!.bucketName, bound.maxSourceShards!);
      this.restoredManifestKey = this.preflight.getAttString(A.manifestKey);
      this.restoredSnapshotTime = this.preflight.getAttString(A.snapshotCreateTime);
    }

    if (this.clusterModeEnabled) {
      // Seeding a cluster-mode-enabled group requires the slots of every node group.
      const slots = evenSlotRanges(Math.min(this.shardCount, MAX_SHARDS));
      // NumNodeGroups stays, equal to the number of node groups: cfn-lint (E3026) requires it on a cluster-mode group.
      cfn.numNodeGroups = slots.length;
      cfn.replicasPerNodeGroup = undefined;
      cfn.nodeGroupConfiguration = slots.map((range, i) => ({
        nodeGroupId: nodeGroupId(i + 1),
        slots: range,
        replicaCount: this.replicasPerShard,
      }));
    }
    // A failed preflight creates nothing: every resource of the group (subnet group, security group, parameter group,
    // auth token secret, and any added later) waits for it. The group itself reads the ARNs of a latest export from
    // the preflight's attributes, which is a dependency already (a DependsOn as well is cfn-lint's W3005).
    Aspects.of(this).add(new AfterPreflight(this.preflight, bound.kind === 'latestExport' ? [cfn] : []));
  }

  /**
   * `Fn::Split(',', Fn::Join('', [chunk0, chunk1, ...]))`: the preflight returns the first 20 ARNs; one
   * `Custom::ElastiCacheRestoreArns` per further 20 returns `,arn21,...` (or '' past the end). Object keys never
   * contain commas (ElastiCache forbids them in seed ARNs, and the preflight checks the manifest).
   */
  private latestExportArns(provider: PreflightProvider, bucketName: string, maxSourceShards: number): string[] {
    const chunks: string[] = [this.preflight.getAttString(A.snapshotArns)];
    const chunkCount = Math.ceil(maxSourceShards / ARNS_PER_CHUNK);
    for (let i = 1; i < chunkCount; i++) {
      const chunk = new CustomResource(this, `SnapshotArns${i}`, {
        serviceToken: provider.serviceToken,
        resourceType: ARN_CHUNK_RESOURCE_TYPE,
        properties: {
          [P.sourceKind]: 'latestExportChunk',
          [P.partition]: Stack.of(this).partition,
          [P.bucket]: bucketName,
          [P.manifestKey]: this.preflight.getAttString(A.manifestKey),
          [P.chunkIndex]: i,
        },
      });
      chunks.push(chunk.getAttString(A.snapshotArns));
    }
    return chunks.length === 1 ? Fn.split(',', chunks[0]) : Fn.split(',', Fn.join('', chunks));
  }
}

/**
 * The replication group's create-only properties (a change replaces the group, which is then seeded again), as the
 * preflight sees them: an Update of the preflight that changes one re-checks the source. `SnapshotArns` and
 * `SnapshotName` are the source itself; `CacheSubnetGroupName` is left out because the subnet group waits for the
 * preflight (a reference would be a cycle) and is never replaced in place (the construct does not name it).
 */
function createOnlyProperties(cfn: elasticache.CfnReplicationGroup): Record<string, unknown> {
  return {
    ReplicationGroupId: cfn.replicationGroupId,
    Port: cfn.port,
    AtRestEncryptionEnabled: cfn.atRestEncryptionEnabled,
    KmsKeyId: cfn.kmsKeyId,
    DataTieringEnabled: cfn.dataTieringEnabled,
    NetworkType: cfn.networkType,
    PreferredCacheClusterAZs: cfn.preferredCacheClusterAZs,
    ReplicasPerNodeGroup: cfn.replicasPerNodeGroup,
    GlobalReplicationGroupId: cfn.globalReplicationGroupId,
  };
}

/** Makes every CloudFormation resource under a restore depend on its preflight (except its own and the ARN chunks, which read it). */
class AfterPreflight implements IAspect {
  /** @param referencing resources that reference the preflight's attributes (dependent already) */
  constructor(private readonly preflight: CustomResource, private readonly referencing: CfnResource[]) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || this.referencing.includes(node)
      || node.cfnResourceType === PREFLIGHT_RESOURCE_TYPE || node.cfnResourceType === ARN_CHUNK_RESOURCE_TYPE) {
      return;
    }
    if (node.node.scopes.includes(this.preflight)) {
      return;
    }
    node.node.addDependency(this.preflight);
  }
}
