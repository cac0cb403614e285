import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { Asl, drillStack, isTerminal, renderedAsl, terminalsReachableWithout } from './restore-drill-fixture';

const { stack, drill, template } = drillStack();
const asl = renderedAsl(template);
const DRILL_TAG = 'cdk-elasticache-backup:drill';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

function stateMachineStatements(): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('DrillRole'))!;
  const mine = Object.values(policies).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId));
  return mine.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

function resourceText(s: Statement): string {
  return JSON.stringify(stack.resolve(s.Resource));
}

describe('RestoreDrill state machine definition (rendered ASL)', () => {
  test('every path to an end state passes through Cleanup: with Cleanup removed, no end state is reachable', () => {
    expect(Object.values(asl.States).filter(isTerminal).length).toBeGreaterThanOrEqual(3);
    expect(terminalsReachableWithout(asl, 'Cleanup')).toEqual([]);
  });

  test('the graph walk finds a failure path that skips Cleanup (the check above can fail)', () => {
    const broken: Asl = JSON.parse(JSON.stringify(asl));
    (broken.States.ResolveExport.Catch as Array<{ Next: string }>)[0].Next = 'Leak';
    (broken.States as Record<string, unknown>).Leak = { Type: 'Fail', Error: 'Leak' };
    expect(terminalsReachableWithout(broken, 'Cleanup')).toEqual(['Leak']);
  });

  test('every task catches States.ALL (no task failure ends the execution without cleanup or report)', () => {
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(10);
    for (const [name, state] of tasks) {
      expect({ name, catchesAll: (state.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL')) }).toEqual({ name, catchesAll: true });
    }
  });

  test('every task has a timeout, and the execution has one: 2 h of drill plus 90 min of cleanup by default', () => {
    for (const [name, state] of Object.entries(asl.States).filter(([, s]) => s.Type === 'Task')) {
      expect({ name, timeout: typeof state.TimeoutSeconds }).toEqual({ name, timeout: 'number' });
    }
    expect(asl.TimeoutSeconds).toBe(2 * 3600 + 90 * 60);
  });

  test('the wait for available is bounded: the status choice leaves the loop after $.drill.maxPolls polls', () => {
    const choices = asl.States['GroupAvailable?'].Choices!;
    expect(choices).toEqual(expect.arrayContaining([
      expect.objectContaining({ Variable: '$.poll.count', NumericGreaterThanEqualsPath: '$.drill.maxPolls', Next: 'WaitTimedOut' }),
    ]));
    expect(asl.States['GroupAvailable?'].Default).toBe('WaitForGroup');
    expect(asl.States.WaitForGroup).toMatchObject({ Type: 'Wait', Seconds: 60, Next: 'DescribeDrillGroup' });
  });

  test('the group is created tagged with the drill id, encrypted in transit and at rest, with an AUTH token, no replicas', () => {
    for (const name of ['CreateDrillGroup', 'CreateShardedDrillGroup']) {
      const state = asl.States[name];
      expect(state.Resource).toBe('arn:aws:states:::aws-sdk:elasticache:createReplicationGroup');
      expect(state.Parameters).toMatchObject({
        'ReplicationGroupId.$': '$.drill.drillGroupId',
        'SnapshotArns.$': '$.drill.snapshotArns',
        'AtRestEncryptionEnabled': true,
        'TransitEncryptionEnabled': true,
        'AuthToken.$': '$.auth.token',
        'Tags': expect.arrayContaining([{ Key: DRILL_TAG, Value: drill.drillId }]),
      });
    }
    expect(asl.States.CreateDrillGroup.Parameters).toMatchObject({ NumCacheClusters: 1 });
    expect(asl.States.CreateShardedDrillGroup.Parameters).toMatchObject({ 'ReplicasPerNodeGroup': 0, 'NodeGroupConfiguration.$': '$.drill.nodeGroupConfiguration' });
  });

  test('the cleanup deletes the temporary group (never the source) and retries while it is still being created', () => {
    const del = asl.States.DeleteDrillGroup;
    expect(del.Resource).toBe('arn:aws:states:::aws-sdk:elasticache:deleteReplicationGroup');
    expect(del.Parameters).toEqual({ 'ReplicationGroupId.$': '$.drill.drillGroupId', 'RetainPrimaryCluster': false });
    expect(del.Retry).toEqual(expect.arrayContaining([
      expect.objectContaining({ ErrorEquals: expect.arrayContaining(['ElastiCache.InvalidReplicationGroupStateException']), MaxAttempts: 60 }),
      expect.objectContaining({ ErrorEquals: ['States.ALL'] }),
    ]));
    // Nothing in the definition names the source group as a group to act on: every ReplicationGroupId is the drill's.
    const ids = Object.values(asl.States).map((s) => (s.Parameters ?? {})['ReplicationGroupId.$'] ?? (s.Parameters ?? {}).ReplicationGroupId).filter((v) => v !== undefined);
    expect(new Set(ids)).toEqual(new Set(['$.drill.drillGroupId']));
  });
});

describe('RestoreDrill IAM', () => {
  const statements = stateMachineStatements();

  test('DeleteReplicationGroup is allowed only on ceb-drill-* groups carrying this drill\'s tag, and nothing else deletes', () => {
    const deleting = statements.filter((s) => actionsOf(s).some((a) => /^(elasticache|secretsmanager|s3):\w*delete|elasticache:\*|^\*$/i.test(a)));
    expect(deleting).toHaveLength(1);
    expect(actionsOf(deleting[0])).toEqual(['elasticache:DeleteReplicationGroup']);
    expect(deleting[0].Condition).toEqual({ StringEquals: { [`aws:ResourceTag/${DRILL_TAG}`]: drill.drillId } });
    expect(resourceText(deleting[0])).toMatch(/:replicationgroup:ceb-drill-\*"\]\]\}$/);
  });

  test('CreateReplicationGroup on a group requires the drill tag in the request, encryption, an AUTH token and a capped node type', () => {
    const create = statements.find((s) => s.Sid === 'CreateOnlyTaggedEncryptedDrillGroups')!;
    expect(actionsOf(create)).toEqual(['elasticache:CreateReplicationGroup']);
    expect(create.Condition).toMatchObject({
      'StringEquals': { [`aws:RequestTag/${DRILL_TAG}`]: drill.drillId },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [DRILL_TAG, 'cdk-elasticache-backup:drill-source'] },
      'Bool': { 'elasticache:TransitEncryptionEnabled': 'true', 'elasticache:AtRestEncryptionEnabled': 'true', 'elasticache:AuthTokenEnabled': 'true' },
    });
    const nodeTypes = create.Condition!.StringEquals['elasticache:CacheNodeType'] as string[];
    expect(nodeTypes).toEqual(expect.arrayContaining(['cache.r7g.large', 'cache.r7g.xlarge', 'cache.t4g.micro']));
    expect(nodeTypes).not.toContain('cache.r7g.2xlarge');
  });

  test('every ElastiCache replication group or node the role may act on is a ceb-drill-* one', () => {
    for (const s of statements.filter((x) => actionsOf(x).some((a) => a.startsWith('elasticache:')))) {
      const text = resourceText(s);
      for (const match of text.matchAll(/:(replicationgroup|cluster):([^"]*)/g)) {
        expect(match[2]).toBe('ceb-drill-*');
      }
    }
  });

  test('the tasks\' default statements without conditions are not in any policy (the role is passed without policy updates)', () => {
    const all = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(all).not.toContain('elasticache:createReplicationGroup');
    expect(all).not.toContain('elasticache:deleteReplicationGroup');
  });
});

describe('RestoreDrill network, schedule and alarm', () => {
  test('the drill group security group admits only the verifier, on 6379', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    const drillSg = Object.entries(groups).find(([, g]) => String(g.Properties.GroupDescription).includes('admits only the verifier'))!;
    const ingress = [
      ...(drillSg[1].Properties.SecurityGroupIngress ?? []),
      ...Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties).filter((p) => JSON.stringify(p.GroupId).includes(drillSg[0])),
    ];
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^DrillVerifierSecurityGroup/), 'GroupId'] } });
  });

  test('a weekly schedule per group starts the state machine with the group id', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ replicationGroupId: 'orders' }) })],
    });
  });

  test('the alarm fires when the newest drill failed or is older than twice the schedule, and on missing data', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      TreatMissingData: 'breaching',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: `IF(age > ${14 * 86400} || last < 1, 1, 0)` })]),
    });
  });

  test('maxDrillAge follows the schedule rate and can be set', () => {
    const daily = drillStack({ schedule: events.Schedule.rate(Duration.days(1)) });
    daily.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: Match.arrayWith([Match.objectLike({ Expression: `IF(age > ${2 * 86400} || last < 1, 1, 0)` })]) });
  });
});

describe('RestoreDrill validation', () => {
  test.each([
    ['no groups', { groups: [] }, "'groups' must name at least one replication group, got []"],
    ['an invalid group id', { groups: [{ replicationGroupId: 'Orders_1' }] }, "'groups[0].replicationGroupId' is invalid, got 'Orders_1'"],
    ['a group twice', { groups: [{ replicationGroupId: 'orders' }, { replicationGroupId: 'orders' }] }, "'groups' lists 'orders' twice"],
    ['an unknown maxNodeType', { maxNodeType: 'cache.x9.huge' }, "'maxNodeType' must be a node type the library knows the memory of (for example 'cache.r7g.xlarge'), got 'cache.x9.huge'"],
    ['a node type above the cap', { groups: [{ replicationGroupId: 'orders', nodeType: 'cache.r7g.4xlarge' }] },
      "'groups[0].nodeType' cache.r7g.4xlarge (105.81 GiB) is larger than 'maxNodeType' cache.r7g.xlarge (26.32 GiB): raise maxNodeType or choose a smaller node type"],
    ['a short maxDuration', { maxDuration: Duration.minutes(10) }, "'maxDuration' must be from 30 minutes to 12 hours, got 10 minutes"],
    ['a cron schedule without maxDrillAge', { schedule: events.Schedule.cron({ weekDay: 'MON', hour: '3', minute: '0' }) }, "'maxDrillAge' is required with a cron schedule"],
    ['a negative sampleKeys', { sampleKeys: -1 }, "'sampleKeys' must be an integer from 0 to 1000, got -1"],
  ])('fails with %s', (_name, props, message) => {
    expect(() => drillStack(props)).toThrow(message);
  });
});
