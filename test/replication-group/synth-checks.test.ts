import { Annotations as CoreAnnotations, App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MaintenanceWindow } from '../../lib/replication-group/backup';
import { ReplicationGroup, ReplicationGroupProps } from '../../lib/replication-group/replication-group';

/*
 * Issue 12 classes owned by the replication group: plain-string ids of imports, the 24-hour maintenance window, and the
 * acknowledgeable warnings (reserved memory under the AWS recommendation, RemovalPolicy.DESTROY). Each message names
 * the construct (path and class), the property, the value and what is allowed.
 */

const ENV = { account: '111111111111', region: 'us-east-1' };
const RULE = 'use 1 to 40 lowercase letters, digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen';

function setup(): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  return { stack, vpc: new ec2.Vpc(stack, 'Vpc') };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

type Importer = (stack: Stack, id: string) => unknown;
const constructs: Array<[string, (value: string) => Importer]> = [
  ['ReplicationGroup', value => (stack, id) => new ReplicationGroup(stack, id, { vpc: new ec2.Vpc(stack, `${id}Vpc`), replicationGroupId: value })],
  ['ReplicationGroup.fromReplicationGroupAttributes', value => (stack, id) => ReplicationGroup.fromReplicationGroupAttributes(stack, id, { replicationGroupId: value })],
  ['ReplicationGroup.fromReplicationGroupId', value => (stack, id) => ReplicationGroup.fromReplicationGroupId(stack, id, value)],
];

const invalidIds: Array<[string, string]> = [
  ['1cache', 'must start with a lowercase letter'],
  ['a'.repeat(41), 'must be 1 to 40 characters long (it has 41)'],
  ['my--cache', 'must not contain two consecutive hyphens'],
  ['my-cache-', 'must not end with a hyphen'],
  ['My_Cache', 'may only contain lowercase letters, digits and hyphens, must start with a lowercase letter'],
  ['', 'must be 1 to 40 characters long (it has 0), must start with a lowercase letter'],
];

describe('replication group ids: one rule for the construct and every import', () => {
  const rows = constructs.flatMap(([name, make]) => invalidIds.map(([value, problem]) => [name, value, problem, make(value)] as const));
  test.each(rows)('%s refuses %j', (name, value, problem, make) => {
    const { stack } = setup();
    expect(errorOf(() => make(stack, 'Target'))).toBe(
      `Stack/Target: ${name} property 'replicationGroupId' is invalid, got '${value}': it ${problem}; ${RULE}`);
  });

  test.each(constructs)('%s accepts a valid id and a deploy-time id', (_name, make) => {
    const { stack } = setup();
    expect(() => make('orders-cache-1')(stack, 'Valid')).not.toThrow();
    const param = new CfnParameter(stack, 'Id');
    if (_name === 'ReplicationGroup') {
      return; // the construct needs the id at synth (member ids); its deploy-time case is not a plain string
    }
    expect(() => make(param.valueAsString)(stack, 'Token')).not.toThrow();
  });

  test('an imported group by id is an IReplicationGroupRef whose ARN is the group ARN', () => {
    const { stack } = setup();
    const imported = ReplicationGroup.fromReplicationGroupId(stack, 'Imported', 'orders');
    expect(imported.replicationGroupRef).toEqual({ replicationGroupId: 'orders' });
    expect(stack.resolve(imported.replicationGroupArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:us-east-1:111111111111:replicationgroup:orders']],
    });
  });
});

describe('maintenance window: 60 minutes to 24 hours', () => {
  test.each([
    ['sun:00:00-mon:00:01', '24 hours 1 minute'],
    ['sun:00:00-tue:00:00', '48 hours'],
    ['mon:00:00-sun:00:00', '144 hours'],
    ['sat:23:00-sat:22:59', '167 hours 59 minutes'],
    ['sun:05:00-sun:05:59', '59 minutes'],
  ])('refuses %s (%s)', (window, length) => {
    const { stack, vpc } = setup();
    expect(errorOf(() => new ReplicationGroup(stack, 'Cache', { vpc, maintenanceWindow: MaintenanceWindow.fromString(window) }))).toBe(
      `Stack/Cache: 'maintenanceWindow' must be 60 minutes to 24 hours long, got '${window}' (${length}); for example 'sun:05:00-sun:06:00'`);
  });

  test.each([
    ['sun:05:00-sun:06:00', '03:00-05:00'],
    // 23 hours from Saturday 22:00: on Saturdays only 21:00-22:00 is free.
    ['sat:22:00-sun:21:00', '21:00-22:00'],
  ])('accepts %s and picks a backup window around it (%s)', (window, backup) => {
    const { stack, vpc } = setup();
    const cache = new ReplicationGroup(stack, 'Cache', { vpc, maintenanceWindow: MaintenanceWindow.fromString(window) });
    expect(cache.maintenanceWindow).toBe(window);
    expect(cache.backupWindow).toBe(backup);
  });
});

const LOW_MEMORY = 'cdk-elasticache-backup:lowReservedMemory';
const DESTROY = 'cdk-elasticache-backup:noFinalSnapshot';

function warningsOf(props: Partial<ReplicationGroupProps>, acknowledge: string[] = []): string[] {
  const { stack, vpc } = setup();
  const cache = new ReplicationGroup(stack, 'Cache', { vpc, ...props });
  for (const id of acknowledge) {
    CoreAnnotations.of(cache).acknowledgeWarning(id, 'test');
  }
  return Annotations.fromStack(stack).findWarning('/Stack/Cache', Match.anyValue()).map(w => String(w.entry.data));
}

describe('warning: reservedMemoryPercent under the AWS recommendation', () => {
  test.each([
    // [props, warned, recommendation]
    [{ reservedMemoryPercent: 10 }, true, 25],
    [{ reservedMemoryPercent: 24 }, true, 25],
    [{ reservedMemoryPercent: 25 }, false, 25],
    [{ parameters: { 'reserved-memory-percent': '20' } }, true, 25],
    [{ nodeType: 'cache.t4g.small', reservedMemoryPercent: 25 }, true, 30],
    [{ nodeType: 'cache.t4g.micro', reservedMemoryPercent: 30 }, true, 50],
    [{ nodeType: 'cache.r6gd.xlarge', reservedMemoryPercent: 25 }, false, 25],
    [{ nodeType: 'cache.r6gd.xlarge', reservedMemoryPercent: 25, writeHeavy: true }, true, 50],
    [{ nodeType: 'cache.r6gd.xlarge', writeHeavy: true }, false, 50],
    [{}, false, 25],
  ] as Array<[Partial<ReplicationGroupProps>, boolean, number]>)('%j: warned %s (recommendation %d)', (props, warned, recommended) => {
    const low = warningsOf(props).filter(w => w.includes('reserved-memory-percent is'));
    if (!warned) {
      expect(low).toEqual([]);
      return;
    }
    const given = props.reservedMemoryPercent ?? Number(props.parameters?.['reserved-memory-percent']);
    expect(low).toHaveLength(1);
    expect(low[0]).toContain(`reserved-memory-percent is ${given}, under the ${recommended} AWS recommends for ${props.nodeType ?? 'cache.r7g.large'}`);
    expect(low[0]).toContain(`set 'reservedMemoryPercent' to ${recommended} or more`);
    expect(low[0]).toContain(`[ack: ${LOW_MEMORY}]`);
  });

  test('a deploy-time reservedMemoryPercent gives no warning', () => {
    const { stack, vpc } = setup();
    new ReplicationGroup(stack, 'Cache', { vpc, reservedMemoryPercent: new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber });
    expect(Annotations.fromStack(stack).findWarning('/Stack/Cache', Match.stringLikeRegexp('reserved-memory-percent is'))).toEqual([]);
  });

  test('it can be acknowledged', () => {
    expect(warningsOf({ reservedMemoryPercent: 10 }, [LOW_MEMORY]).filter(w => w.includes('reserved-memory-percent is'))).toEqual([]);
  });
});

describe('warning: RemovalPolicy.DESTROY deletes the group without a final backup', () => {
  test.each([
    [RemovalPolicy.DESTROY, true],
    [RemovalPolicy.SNAPSHOT, false],
    [RemovalPolicy.RETAIN, false],
    [RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, false],
    [undefined, false],
  ])('removalPolicy %s: warned %s', (removalPolicy, warned) => {
    const destroy = warningsOf({ removalPolicy }).filter(w => w.includes('removalPolicy is RemovalPolicy.DESTROY'));
    expect(destroy).toHaveLength(warned ? 1 : 0);
    if (warned) {
      expect(destroy[0]).toContain('without a final backup; use RemovalPolicy.SNAPSHOT (the default) or RETAIN');
      expect(destroy[0]).toContain(`[ack: ${DESTROY}]`);
    }
  });

  test('it can be acknowledged', () => {
    expect(warningsOf({ removalPolicy: RemovalPolicy.DESTROY }, [DESTROY]).filter(w => w.includes('DESTROY'))).toEqual([]);
  });
});
