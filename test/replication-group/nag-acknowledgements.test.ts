import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CacheEngine, ReplicationGroup } from '../../lib';

/**
 * The README's cdk-nag section, checked: which AwsSolutions findings a default group leaves to the user per engine, and
 * that the bare acknowledgement id it shows works both in a full synth and in cdk-nag's unit-test path (`validateScope`).
 */
function defaultGroup(engine: CacheEngine): { app: App; stack: Stack; cache: ReplicationGroup } {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const cache = new ReplicationGroup(stack, 'Cache', { vpc, engine, nodeType: 'cache.r7g.large', replicasPerShard: 1 });
  return { app, stack, cache };
}

/** The ids of the findings on the cache and its secret (the VPC's own findings are not the library's). */
function cacheFindings(stack: Stack, cache: ReplicationGroup, pack: AwsSolutionsChecks): string[] {
  const report = pack.validateScope(stack);
  const ours = [cache.node.path, cache.authTokenSecret!.node.path];
  return report.violations
    .filter((v) => v.violatingResources.some((r) => ours.some((p) => r.constructPath?.startsWith(p))))
    .map((v) => v.ruleName)
    .sort();
}

function acknowledgeReadmeFindings(cache: ReplicationGroup): void {
  Validations.of(cache).acknowledge({ id: 'AwsSolutions-AEC5', reason: 'Clients expect the standard port; access is limited by the security group' });
}

describe('cdk-nag AwsSolutions on a default ReplicationGroup (README, section cdk-nag)', () => {
  test.each([
    ['Valkey', CacheEngine.VALKEY_8_0, []],
    ['Redis OSS', CacheEngine.REDIS_7_1, ['AwsSolutions-AEC5']],
  ])('%s: the findings are exactly those the README lists', (_name, engine, expected) => {
    const { app, stack, cache } = defaultGroup(engine);
    expect(cacheFindings(stack, cache, new AwsSolutionsChecks(app))).toEqual(expected);
  });

  test('Redis OSS on another port: no AEC5', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const cache = new ReplicationGroup(stack, 'Cache', { vpc, engine: CacheEngine.REDIS_7_1, nodeType: 'cache.r7g.large', replicasPerShard: 1, port: 6380 });
    expect(cacheFindings(stack, cache, new AwsSolutionsChecks(app))).toEqual([]);
  });

  test('the README\'s bare ids acknowledge the finding in cdk-nag\'s unit-test path (validateScope)', () => {
    const { app, stack, cache } = defaultGroup(CacheEngine.REDIS_7_1);
    acknowledgeReadmeFindings(cache);
    expect(cacheFindings(stack, cache, new AwsSolutionsChecks(app))).toEqual([]);
  });

  test('the README\'s bare ids acknowledge the finding in a full synth', () => {
    const unacknowledged = (acknowledge: boolean): string => {
      const { app, cache } = defaultGroup(CacheEngine.REDIS_7_1);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      if (acknowledge) {
        acknowledgeReadmeFindings(cache);
      }
      try {
        app.synth();
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    };
    // Without the acknowledgement the synth reports it (so the check below can fail); the VPC's findings stay either way.
    expect(unacknowledged(false)).toMatch(/AwsSolutions-AEC5/);
    const after = unacknowledged(true);
    expect(after).toMatch(/AwsSolutions-VPC7/);
    expect(after).not.toMatch(/AwsSolutions-AEC5/);
  });
});
