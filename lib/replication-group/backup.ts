import { Duration, Token } from 'aws-cdk-lib';
import { formatDailyWindow, formatWeeklyWindow, MAX_MAINTENANCE_WINDOW_MINUTES, MINUTES_PER_DAY, WEEKDAYS } from '../private/windows';

/**
 * A time of day in UTC.
 */
export interface TimeOfDay {
  /**
   * The hour, 0 to 23 (UTC).
   */
  readonly hour: number;

  /**
   * The minute, 0 to 59.
   *
   * @default 0
   */
  readonly minute?: number;
}

/**
 * A day of the week, as ElastiCache spells it in maintenance windows.
 */
export enum DayOfWeek {
  /** Sunday. */
  SUNDAY = 'sun',
  /** Monday. */
  MONDAY = 'mon',
  /** Tuesday. */
  TUESDAY = 'tue',
  /** Wednesday. */
  WEDNESDAY = 'wed',
  /** Thursday. */
  THURSDAY = 'thu',
  /** Friday. */
  FRIDAY = 'fri',
  /** Saturday. */
  SATURDAY = 'sat',
}

/**
 * A time of the week in UTC.
 */
export interface TimeOfWeek extends TimeOfDay {
  /**
   * The day of the week (UTC).
   */
  readonly day: DayOfWeek;
}

/**
 * The daily time range (UTC) during which ElastiCache starts the automatic backup.
 *
 * At least 60 minutes, and it must not overlap the weekly maintenance window (checked at synth).
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html
 *
 * @example
 * const fromText = BackupWindow.fromString('03:00-05:00');
 * const typed = BackupWindow.startingAt({ hour: 3 }, Duration.hours(2));
 */
export class BackupWindow {
  /**
   * A window in ElastiCache's format, `hh24:mi-hh24:mi` (UTC), for example `03:00-05:00`.
   *
   * A window whose end is earlier than its start wraps midnight (`23:30-00:30`). The format and the 60-minute minimum
   * are checked when the window is used by a replication group.
   */
  public static fromString(window: string): BackupWindow {
    return new BackupWindow(window);
  }

  /**
   * A window that starts at a time of day and lasts a whole number of minutes.
   *
   * @param start when the window starts (UTC)
   * @param duration how long the window lasts, whole minutes, 60 minutes to 24 hours (exclusive); default 1 hour
   */
  public static startingAt(start: TimeOfDay, duration?: Duration): BackupWindow {
    const minutes = windowMinutes('BackupWindow.startingAt', duration, MINUTES_PER_DAY - 1, 'under 24 hours');
    return new BackupWindow(formatDailyWindow({ start: minuteOfDay('BackupWindow.startingAt', start), duration: minutes }));
  }

  /**
   * The window as CloudFormation's `SnapshotWindow` takes it.
   */
  public readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }

  /** The window text, for example `03:00-05:00`. */
  public toString(): string {
    return this.value;
  }
}

/**
 * The weekly time range (UTC) during which ElastiCache may apply maintenance (patches, engine upgrades).
 *
 * 60 minutes to 24 hours, and it must not overlap the daily backup window (checked at synth).
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/maintenance-window.html
 *
 * @example
 * const fromText = MaintenanceWindow.fromString('sun:23:00-mon:01:30');
 * const typed = MaintenanceWindow.startingAt({ day: DayOfWeek.SUNDAY, hour: 23 }, Duration.minutes(150));
 */
export class MaintenanceWindow {
  /**
   * A window in ElastiCache's format, `ddd:hh24:mi-ddd:hh24:mi` (UTC), for example `sun:23:00-mon:01:30`.
   *
   * `ddd` is one of `sun`, `mon`, `tue`, `wed`, `thu`, `fri`, `sat`. The format and the length (60 minutes to 24 hours)
   * are checked when the window is used by a replication group.
   */
  public static fromString(window: string): MaintenanceWindow {
    return new MaintenanceWindow(window);
  }

  /**
   * A window that starts at a time of the week and lasts a whole number of minutes.
   *
   * @param start when the window starts (UTC)
   * @param duration how long the window lasts, whole minutes, 60 minutes to 24 hours (the service's range); default 1 hour
   */
  public static startingAt(start: TimeOfWeek, duration?: Duration): MaintenanceWindow {
    const minutes = windowMinutes('MaintenanceWindow.startingAt', duration, MAX_MAINTENANCE_WINDOW_MINUTES, 'at most 24 hours');
    const day = WEEKDAYS.indexOf(start.day);
    if (day < 0) {
      throw new Error(`MaintenanceWindow.startingAt: 'day' must be a DayOfWeek, got '${start.day}'`);
    }
    const startMinute = day * MINUTES_PER_DAY + minuteOfDay('MaintenanceWindow.startingAt', start);
    return new MaintenanceWindow(formatWeeklyWindow({ start: startMinute, duration: minutes }));
  }

  /**
   * The window as CloudFormation's `PreferredMaintenanceWindow` takes it.
   */
  public readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }

  /** The window text, for example `sun:23:00-mon:01:30`. */
  public toString(): string {
    return this.value;
  }
}

/**
 * Automatic backup settings of a replication group.
 */
export interface BackupOptions {
  /**
   * How long ElastiCache keeps each daily automatic backup: whole days, 1 to 35.
   *
   * Under 15 days gives a warning (the cdk-nag AwsSolutions rule for ElastiCache backups asks for at least 15).
   * Automatic backups cannot be turned off with this construct.
   *
   * @default Duration.days(15)
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html
   */
  readonly retention?: Duration;

  /**
   * The daily time range (UTC) in which the automatic backup starts.
   *
   * @default - 03:00-05:00 UTC, or when `maintenanceWindow` is given and overlaps it, the first 2-hour (else 1-hour)
   * window starting on a half hour from 03:00 UTC that does not overlap the maintenance window
   */
  readonly window?: BackupWindow;

  /**
   * Take the automatic backup from a replica (`SnapshottingClusterId` = `<replicationGroupId>-002`) instead of the
   * primary, so the primary's latency and memory are not affected by the backup.
   *
   * Only for cluster mode disabled with at least one replica. Without it (or with no replica) cluster mode disabled
   * takes the automatic backup from the primary, `<replicationGroupId>-001`, which is then named explicitly.
   *
   * @default - true when cluster mode is disabled and there is a replica, false otherwise
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups.html
   */
  readonly fromReplica?: boolean;
}

function minuteOfDay(factory: string, time: TimeOfDay): number {
  const minute = time.minute ?? 0;
  if (!Number.isInteger(time.hour) || time.hour < 0 || time.hour > 23) {
    throw new Error(`${factory}: 'hour' must be an integer from 0 to 23, got ${time.hour}`);
  }
  if (!Number.isInteger(minute) || minute < 0 || minute > 59) {
    throw new Error(`${factory}: 'minute' must be an integer from 0 to 59, got ${minute}`);
  }
  return time.hour * 60 + minute;
}

function windowMinutes(factory: string, duration: Duration | undefined, maxMinutes: number, maxText: string): number {
  if (duration === undefined) {
    return 60;
  }
  if (Token.isUnresolved(duration) || duration.isUnresolved()) {
    throw new Error(`${factory}: 'duration' cannot be a deploy-time value; the window text is built at synth time`);
  }
  const minutes = duration.toSeconds() / 60;
  if (!Number.isInteger(minutes) || minutes < 60 || minutes > maxMinutes) {
    throw new Error(`${factory}: 'duration' must be whole minutes, at least 60 minutes and ${maxText}, got ${duration.toHumanString()}`);
  }
  return minutes;
}
