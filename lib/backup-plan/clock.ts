/**
 * The reconciler's clock, checked against the AWS clocks it observes (pure, no I/O). Not part of the jsii API.
 *
 * A Lambda's clock is normally right, but when it is behind, every age it reports is too low by as much: the RPO alarm
 * (ExportAgeSeconds) would stay silent while the exports are late. The service's timestamps are evidence of a lower
 * bound of the true time: the state object's LastModified (written by an earlier run) and snapshot create times were
 * set by AWS before this run read them. When the newest of them is later
 * than the local clock by more than the margin, the local clock is behind by at least that much, and the run plans
 * with the corrected time. Correcting can only move time forward, to a moment that has certainly passed.
 */

/** The time the run plans with, and how far the local clock was found behind (0 when it was not). */
export interface ClockReading {
  readonly now: Date;
  /** Seconds the local clock is behind the newest AWS timestamp observed (beyond the margin), else 0. */
  readonly behindSeconds: number;
  /** Which timestamp proved it (for the log), when behind. */
  readonly evidence?: string;
}

/** One AWS-set timestamp and what it is (for the log). */
export interface ServiceTime {
  readonly what: string;
  readonly at: Date | undefined;
}

/**
 * The corrected time: the local time, or the newest service timestamp when that is later than the local time by more
 * than `marginSeconds` (the clock-skew margin the plan already tolerates).
 */
export function readClock(localNow: Date, evidence: readonly ServiceTime[], marginSeconds: number): ClockReading {
  let newest: ServiceTime | undefined;
  for (const e of evidence) {
    const t = e.at?.getTime();
    if (t !== undefined && Number.isFinite(t) && (newest === undefined || t > newest.at!.getTime())) {
      newest = e;
    }
  }
  const aheadMs = newest ? newest.at!.getTime() - localNow.getTime() : 0;
  if (!newest || aheadMs <= marginSeconds * 1000) {
    return { now: localNow, behindSeconds: 0 };
  }
  return { now: new Date(newest.at!.getTime()), behindSeconds: Math.round(aheadMs / 1000), evidence: `${newest.what} (${newest.at!.toISOString()})` };
}

/** The log line for a clock found behind. */
export function clockBehindNote(localNow: Date, reading: ClockReading): string {
  return `this function's clock (${localNow.toISOString()}) is at least ${reading.behindSeconds} s behind AWS: ${reading.evidence} `
    + `is later. Ages and due times use ${reading.now.toISOString()} instead; pruning is held until the clocks agree. `
    + 'Check the time source of the Lambda environment';
}
