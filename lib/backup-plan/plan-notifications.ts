/*
 * How the BackupPlan hears about backups through SNS. Internal: not exported from the package.
 *
 * Node-based replication groups publish their events (`ElastiCache:SnapshotComplete`, `ElastiCache:SnapshotFailed`,
 * ...) to the SNS topic set as the group's `NotificationTopicArn`; EventBridge events are documented for serverless
 * caches only. The plan subscribes its reconciler to one topic and sets that topic on the groups it can.
 */
import { Annotations, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, IConstruct } from 'constructs';
import { IReplicationGroup, ReplicationGroup } from '../replication-group/replication-group';

const WARNING_PREFIX = 'cdk-elasticache-backup:BackupPlan';

/** The plan's notification topic: TLS only, published to by ElastiCache in this account. */
export function defineNotificationTopic(scope: Construct): sns.Topic {
  const topic = new sns.Topic(scope, 'SnapshotNotifications', {
    displayName: 'ElastiCache events of the groups a backup plan protects',
    enforceSSL: true,
  });
  topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ElastiCachePublish',
    principals: [new iam.ServicePrincipal('elasticache.amazonaws.com')],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
  }));
  // The ElastiCache guide (ECEvents.SNS) asks for the `AWS:SourceOwner` condition and also shows `aws:SourceAccount`;
  // with a condition the service does not send, it marks the topic `inactive` and publishes nothing. Both forms are
  // granted, so the topic works whichever the service uses (docs/service-behaviour.md; the probe reports TopicStatus).
  topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ElastiCachePublishSourceOwner',
    principals: [new iam.ServicePrincipal('elasticache.amazonaws.com')],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions: { StringEquals: { 'AWS:SourceOwner': Stack.of(scope).account } },
  }));
  const reason = 'ElastiCache publishes node-based groups\' events to this topic; whether it can use a KMS key (an AWS managed key cannot '
    + 'be used by a service) is not documented, and a refused publish would be silent. The messages carry only event names and cluster ids';
  const ack = (id: string) => Validations.of(topic).acknowledge({ id, reason });
  ack('AwsSolutions-SNS2');
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
    ack(`${pack}-SNSEncryptedKMS`);
  }
  return topic;
}

/** Subscribes the reconciler (a Lambda subscription; SNS invokes it asynchronously). */
export function subscribeReconciler(topic: sns.ITopic, fn: lambda.IFunction): IConstruct {
  return topic.addSubscription(new subs.LambdaSubscription(fn));
}

/** Whether `from` depends on `to`, directly or through other stacks. */
function dependsOn(from: Stack, to: Stack, seen = new Set<Stack>()): boolean {
  if (seen.has(from)) {
    return false;
  }
  seen.add(from);
  return from.dependencies.some((d) => d === to || dependsOn(d, to, seen));
}

/**
 * Sets the plan's topic on a group of this library that has none; warns when a group sends its events elsewhere, and
 * says how to set the topic on an imported group.
 */
export function useTopicFor(plan: Construct, group: IReplicationGroup, topic: sns.ITopic, label: string): void {
  const annotations = Annotations.of(plan);
  if (!(group instanceof ReplicationGroup)) {
    annotations.addInfo(`replication group '${label}' is imported: set its notification topic to the plan's (${topic.node.path}) so that `
      + 'the plan hears of its backups at once (aws elasticache modify-replication-group --notification-topic-arn); '
      + 'otherwise it runs on its schedule');
    return;
  }
  const current = group.notificationTopic;
  if (current === topic) {
    return;
  }
  if (current !== undefined) {
    annotations.addWarningV2(`${WARNING_PREFIX}:foreignNotificationTopic`,
      `replication group '${label}' sends its events to ${current.node.path}, not to the plan's topic: the plan then hears of its backups `
      + 'only on its schedule. Pass that topic as the plan\'s \'notificationTopic\', or remove \'notificationTopic\' from the group');
    return;
  }
  const groupStack = Stack.of(group);
  const topicStack = Stack.of(topic);
  // The group's stack will import the topic ARN; refuse to create a cycle if the topic's stack already depends on it.
  if (groupStack !== topicStack && dependsOn(topicStack, groupStack)) {
    annotations.addWarningV2(`${WARNING_PREFIX}:notificationTopicCycle`,
      `replication group '${label}' is in stack ${groupStack.stackName}, which the plan's stack depends on: the plan cannot set its `
      + 'notification topic without a dependency cycle. Define the topic in the group\'s stack, pass it to the group as '
      + '\'notificationTopic\' and to the plan as \'notificationTopic\'');
    return;
  }
  group.useNotificationTopic(topic);
}
