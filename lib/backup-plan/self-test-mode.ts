/**
 * What a `BackupPlan` proves at deploy time, in the user's account, before the deployment completes.
 */
export enum SelfTest {
  /**
   * Seconds: each protected group exists in the plan's region and is available or being created (and has no data
   * tiering), the snapshot listing sees its automatic backups, the reconciler's role can write, read and delete under
   * its state prefix, the export bucket is in the region and its policy grants the regional ElastiCache principal.
   */
  QUICK = 'QUICK',
  /**
   * Minutes: QUICK, then one manual backup of each group (with the plan's name and tag), exported, verified and
   * committed by the reconciler; the deployment waits for the manifest (at most 55 minutes, the longest a
   * CloudFormation custom resource can take). Each run adds one manual backup per group, pruned like the plan's own.
   */
  FULL = 'FULL',
  /** No self-test. */
  OFF = 'OFF',
}
