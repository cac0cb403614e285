/*
 * One registry per app (keyed on the construct tree's root, so every stack and stage of an app shares it) of the
 * things that must be unique in an account and region: replication group ids, and the one BackupPlan of each group.
 * Checked when the second one is defined, so the error points at the construct that collides. Internal: not exported
 * from the package.
 */
import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { describeValue, ValidationError } from './errors';

/** Where a name must be unique: a concrete account and region, or (when either is a deploy-time value) one stack. */
export interface UniquenessScope {
  /** The registry key part. */
  readonly key: string;
  /** For messages: `account 111111111111, us-east-1` or `stack 'Primary' (env-agnostic)`. */
  readonly description: string;
}

/**
 * The account and region a resource lives in, when both are known at synth. An env-agnostic stack may be deployed
 * anywhere, so two of them are only known to collide when they are the same stack.
 */
export function uniquenessScope(construct: IConstruct, env?: { readonly account: string; readonly region: string }): UniquenessScope {
  const stack = Stack.of(construct);
  const account = env?.account ?? stack.account;
  const region = env?.region ?? stack.region;
  if (!Token.isUnresolved(account) && !Token.isUnresolved(region)) {
    return { key: `env:${account}:${region}`, description: `account ${account}, ${region}` };
  }
  return { key: `stack:${stack.node.path}`, description: `stack '${stack.stackName}' (env-agnostic)` };
}

/** What a BackupPlan registered for one group it protects. */
export interface PlanProtection {
  /** The plan (a BackupPlan). */
  readonly plan: IConstruct;
  /** The group id. */
  readonly replicationGroupId: string;
  /** The plan's export bucket construct (a BackupExportBucket). */
  readonly exportBucket: IConstruct;
  /** Seconds between the plan's backups of the group, when it takes them on a schedule. */
  readonly intervalSeconds?: number;
  /** Whether automatic (daily) backups are exported. */
  readonly exportAutomated: boolean;
  /** Seconds after which the plan takes a backup when the automatic one was missed. */
  readonly fallbackAfterSeconds?: number;
}

interface Registry {
  readonly groupIds: Map<string, IConstruct>;
  readonly protections: Map<string, PlanProtection>;
}

const registries = new WeakMap<IConstruct, Registry>();

function registryOf(construct: IConstruct): Registry {
  const root = construct.node.root;
  let registry = registries.get(root);
  if (!registry) {
    registry = { groupIds: new Map(), protections: new Map() };
    registries.set(root, registry);
  }
  return registry;
}

/**
 * Records that `group` creates a replication group with `replicationGroupId`; throws when another construct of the
 * app already creates one with the same id in the same account and region. Deploy-time ids are not checked.
 *
 * @param constructName the class of `group`, for the message (for example `ReplicationGroup`)
 */
export function registerReplicationGroupId(group: IConstruct, constructName: string, replicationGroupId: string): void {
  if (Token.isUnresolved(replicationGroupId)) {
    return;
  }
  const where = uniquenessScope(group);
  const key = `${where.key}:${replicationGroupId}`;
  const registry = registryOf(group);
  const first = registry.groupIds.get(key);
  if (first !== undefined && first !== group) {
    throw new ValidationError(group, `${constructName} property 'replicationGroupId' is ${describeValue(replicationGroupId)}, but `
      + `${first.node.path} already creates a replication group with that id in ${where.description}: ElastiCache allows one `
      + 'replication group per id in an account and region, so the second would fail to deploy (or replace the first); '
      + 'give each replication group its own replicationGroupId');
  }
  registry.groupIds.set(key, group);
}

/**
 * Records that `protection.plan` protects a group; throws when another plan of the app already protects a group with
 * the same id in the same account and region. Deploy-time ids are not checked.
 *
 * @param group the protected group, for its account and region
 */
export function registerPlanProtection(group: IConstruct & { readonly env?: { account: string; region: string } }, protection: PlanProtection): void {
  if (Token.isUnresolved(protection.replicationGroupId)) {
    return;
  }
  const where = uniquenessScope(group, group.env);
  const key = `${where.key}:${protection.replicationGroupId}`;
  const registry = registryOf(protection.plan);
  const first = registry.protections.get(key);
  if (first !== undefined && first.plan !== protection.plan) {
    throw new ValidationError(protection.plan, 'BackupPlan.protect() argument \'replicationGroup\' is replication group '
      + `${describeValue(protection.replicationGroupId)} in ${where.description}, which the BackupPlan ${first.plan.node.path} already protects: `
      + 'two plans of one group would both back it up against its quota of 20 manual backups per node per 24 hours and both '
      + 'commit manifests of it, each refusing the other\'s backups; protect each replication group with '
      + 'one BackupPlan (one plan can protect many groups with different options)');
  }
  registry.protections.set(key, protection);
}

/** Every group protection registered in the app of `construct`. */
export function planProtections(construct: IConstruct): PlanProtection[] {
  return [...registryOf(construct).protections.values()];
}
