import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CacheEngine } from '../../lib/engine';
import { CacheParameterGroup } from '../../lib/replication-group/parameter-group';

function newStack(): Stack {
  return new Stack(new App(), 'Stack');
}

describe('CacheParameterGroup', () => {
  test('is defined in the engine family with the recommended reserved-memory-percent', () => {
    const stack = newStack();
    const group = new CacheParameterGroup(stack, 'Params', { engine: CacheEngine.REDIS_6_2, nodeType: 'cache.t4g.micro' });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis6.x',
      Description: 'Stack/Params',
      Properties: { 'reserved-memory-percent': '50' },
    });
    expect(group.family).toBe('redis6.x');
    expect(stack.resolve(group.parameterGroupName)).toEqual({ Ref: expect.stringMatching(/^Params/) });
  });

  test('sets cluster-enabled with cluster mode and keeps user parameters', () => {
    const stack = newStack();
    const group = new CacheParameterGroup(stack, 'Params', {
      engine: CacheEngine.VALKEY_7_2,
      nodeType: 'cache.r7g.large',
      clusterModeEnabled: true,
      reservedMemoryPercent: 30,
      parameters: { 'maxmemory-policy': 'volatile-lru', 'cluster-enabled': 'yes' },
      description: 'cluster parameters',
    });
    expect(group.parameters).toEqual({ 'maxmemory-policy': 'volatile-lru', 'cluster-enabled': 'yes', 'reserved-memory-percent': '30' });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey7',
      Description: 'cluster parameters',
    });
  });

  test('fails on its own invalid input', () => {
    const stack = newStack();
    expect(() => new CacheParameterGroup(stack, 'Params', { engine: CacheEngine.VALKEY_8_0, nodeType: 'cache.r7g.large', reservedMemoryPercent: -1 }))
      .toThrow('Stack/Params: \'reservedMemoryPercent\' must be an integer from 0 to 100, got -1');
  });

  test.each([
    ['cache.r7g.large', 25],
    ['cache.t4g.small', 30],
    ['cache.t4g.micro', 50],
    ['cache.r6gd.2xlarge', 25],
  ])('recommends %s: %d', (nodeType, percent) => {
    expect(CacheParameterGroup.recommendedReservedMemoryPercent(nodeType)).toBe(percent);
  });

  test('recommends 50 for a write-heavy data tiering workload and renders it', () => {
    expect(CacheParameterGroup.recommendedReservedMemoryPercent('cache.r6gd.2xlarge', true)).toBe(50);
    const group = new CacheParameterGroup(newStack(), 'Params', { engine: CacheEngine.VALKEY_9_0, nodeType: 'cache.r6gd.2xlarge', writeHeavy: true });
    expect(group.parameters['reserved-memory-percent']).toBe('50');
    expect(group.family).toBe('valkey9');
  });

  test('a data tiering node without writeHeavy renders 25', () => {
    const group = new CacheParameterGroup(newStack(), 'Params', { engine: CacheEngine.VALKEY_8_2, nodeType: 'cache.r6gd.2xlarge' });
    expect(group.parameters['reserved-memory-percent']).toBe('25');
  });
});
