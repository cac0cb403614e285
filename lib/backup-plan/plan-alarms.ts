/*
 * The BackupPlan's alarms. Internal: not exported from the package.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { GroupConfig } from './planner';

/** The per-group metrics the alarms watch (the plan's public metric methods). */
export interface GroupMetrics {
  readonly exportAge: cloudwatch.IMetric;
  readonly failures: cloudwatch.IMetric;
  readonly circuitOpen: cloudwatch.IMetric;
}

/** Alarms of one protected group: RPO (export age), failures, and the circuit breaker. */
export function defineGroupAlarms(
  scope: Construct, topic: sns.ITopic, label: string, config: GroupConfig, metrics: GroupMetrics,
): cloudwatch.Alarm[] {
  const action = new cwActions.SnsAction(topic);
  const rpo = new cloudwatch.Alarm(scope, 'ExportAge', {
    alarmDescription: `cdk-elasticache-backup: the newest export of ${label} is older than its RPO target (${config.rpoTargetSeconds} s)`,
    metric: metrics.exportAge,
    threshold: config.rpoTargetSeconds,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    // No data means the reconciler is not reporting: that is as bad as an old export.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  const failures = new cloudwatch.Alarm(scope, 'Failures', {
    alarmDescription: `cdk-elasticache-backup: a backup or export of ${label} failed`,
    metric: metrics.failures,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const circuit = new cloudwatch.Alarm(scope, 'CircuitOpen', {
    alarmDescription: `cdk-elasticache-backup: the plan stopped taking backups of ${label}: too many of its backups could not be exported. `
      + 'The reconciler log (field circuitReason) says why; fix the cause (export bucket policy, permissions, encryption key). '
      + 'Automatic backups continue',
    metric: metrics.circuitOpen,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const alarms = [rpo, failures, circuit];
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
  }
  return alarms;
}

/** Alarms of the plan itself: reconciler errors and dead-lettered invocations. */
export function definePlanAlarms(scope: Construct, topic: sns.ITopic, errors: cloudwatch.IMetric, deadLetters: cloudwatch.IMetric): cloudwatch.Alarm {
  const action = new cwActions.SnsAction(topic);
  const errorsAlarm = new cloudwatch.Alarm(scope, 'ReconcilerErrors', {
    alarmDescription: 'cdk-elasticache-backup: the backup plan reconciler failed',
    metric: errors,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  errorsAlarm.addAlarmAction(action);
  const dlqAlarm = new cloudwatch.Alarm(scope, 'DeadLetters', {
    alarmDescription: 'cdk-elasticache-backup: reconciler invocations failed and were dead-lettered',
    metric: deadLetters,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  dlqAlarm.addAlarmAction(action);
  return errorsAlarm;
}

/** The period of the per-group failure alarm. */
export const FAILURES_PERIOD = Duration.minutes(15);
