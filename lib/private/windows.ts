/**
 * Pure logic for ElastiCache's daily backup window (`hh24:mi-hh24:mi`, UTC) and weekly maintenance window
 * (`ddd:hh24:mi-ddd:hh24:mi`, UTC). Not exported from the package.
 *
 * Both windows are arcs on a circular timeline: the backup window on a day (1440 minutes) and repeated every day, the
 * maintenance window on a week (10080 minutes, starting Sunday 00:00 UTC). A window whose end is earlier than its start
 * wraps midnight (or the end of the week). Arcs are half-open, `[start, start + duration)`, so a maintenance window that
 * starts exactly when the backup window ends does not overlap it.
 */

export const MINUTES_PER_DAY = 24 * 60;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** The shortest backup or maintenance window the service accepts. */
export const MIN_WINDOW_MINUTES = 60;

/**
 * The longest maintenance window the service accepts: 24 hours ("60 minutes to 24 hours", ElastiCache maintenance
 * window documentation; see the project's elasticache-facts reference).
 */
export const MAX_MAINTENANCE_WINDOW_MINUTES = MINUTES_PER_DAY;

/** Days as ElastiCache spells them, in week order (the week starts on Sunday). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const TIME = '([01]\\d|2[0-3]):([0-5]\\d)';
const DAY = '(sun|mon|tue|wed|thu|fri|sat)';
const DAILY_PATTERN = new RegExp(`^${TIME}-${TIME}$`);
const WEEKLY_PATTERN = new RegExp(`^${DAY}:${TIME}-${DAY}:${TIME}$`, 'i');

/** An arc on a circular timeline: start minute and length in minutes. */
export interface Arc {
  readonly start: number;
  readonly duration: number;
}

/**
 * Parses a daily window `hh24:mi-hh24:mi`.
 *
 * @returns undefined when the text does not have that format
 */
export function parseDailyWindow(text: string): Arc | undefined {
  const m = DAILY_PATTERN.exec(text);
  if (!m) {
    return undefined;
  }
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  return { start, duration: mod(end - start, MINUTES_PER_DAY) };
}

/**
 * Parses a weekly window `ddd:hh24:mi-ddd:hh24:mi` (day names case-insensitive).
 *
 * @returns undefined when the text does not have that format
 */
export function parseWeeklyWindow(text: string): Arc | undefined {
  const m = WEEKLY_PATTERN.exec(text);
  if (!m) {
    return undefined;
  }
  const start = WEEKDAYS.indexOf(m[1].toLowerCase()) * MINUTES_PER_DAY + Number(m[2]) * 60 + Number(m[3]);
  const end = WEEKDAYS.indexOf(m[4].toLowerCase()) * MINUTES_PER_DAY + Number(m[5]) * 60 + Number(m[6]);
  return { start, duration: mod(end - start, MINUTES_PER_WEEK) };
}

/** Renders a daily window as `hh24:mi-hh24:mi`. */
export function formatDailyWindow(arc: Arc): string {
  return `${formatTime(arc.start)}-${formatTime(arc.start + arc.duration)}`;
}

/** Renders a weekly window as `ddd:hh24:mi-ddd:hh24:mi`. */
export function formatWeeklyWindow(arc: Arc): string {
  return `${formatWeekTime(arc.start)}-${formatWeekTime(arc.start + arc.duration)}`;
}

/** Renders a number of minutes the way the error messages do: `30 minutes`, `1 hour 30 minutes`. */
export function describeMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const parts = [];
  if (h > 0) {
    parts.push(`${h} hour${h === 1 ? '' : 's'}`);
  }
  if (m > 0 || h === 0) {
    parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  }
  return parts.join(' ');
}

/**
 * Whether two arcs of a circle with the given period share at least one minute.
 *
 * Both durations must be between 0 and the period.
 */
export function arcsOverlap(a: Arc, b: Arc, period: number): boolean {
  if (a.duration <= 0 || b.duration <= 0) {
    return false;
  }
  return mod(b.start - a.start, period) < a.duration || mod(a.start - b.start, period) < b.duration;
}

/**
 * Whether a daily backup window overlaps a weekly maintenance window on any day of the week.
 */
export function backupOverlapsMaintenance(backup: Arc, maintenance: Arc): boolean {
  for (let day = 0; day < 7; day++) {
    const daily = { start: day * MINUTES_PER_DAY + backup.start, duration: backup.duration };
    if (arcsOverlap(daily, maintenance, MINUTES_PER_WEEK)) {
      return true;
    }
  }
  return false;
}

/** The backup window used when neither window is given: 03:00-05:00 UTC. */
export const DEFAULT_BACKUP_WINDOW: Arc = { start: 3 * 60, duration: 120 };

/** The maintenance window used when neither window is given: Sunday 05:00-06:00 UTC, right after the backup window. */
export const DEFAULT_MAINTENANCE_WINDOW: Arc = { start: 5 * 60, duration: 60 };

/**
 * Chooses a daily backup window that does not overlap the given maintenance window.
 *
 * Prefers the default 03:00-05:00; otherwise the first 2-hour, then 1-hour window, starting on a half hour from 03:00
 * onwards (wrapping midnight).
 *
 * @returns undefined when no 60-minute window is free on every day
 */
export function chooseBackupWindow(maintenance: Arc): Arc | undefined {
  for (const duration of [120, 60]) {
    for (let step = 0; step < MINUTES_PER_DAY / 30; step++) {
      const candidate = { start: mod(DEFAULT_BACKUP_WINDOW.start + step * 30, MINUTES_PER_DAY), duration };
      if (!backupOverlapsMaintenance(candidate, maintenance)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * Chooses a weekly 60-minute maintenance window that does not overlap the given daily backup window.
 *
 * Prefers the default Sunday 05:00-06:00; otherwise Sunday, starting when the backup window ends.
 *
 * @returns undefined when the backup window leaves less than 60 minutes a day free
 */
export function chooseMaintenanceWindow(backup: Arc): Arc | undefined {
  const candidates = [DEFAULT_MAINTENANCE_WINDOW, { start: mod(backup.start + backup.duration, MINUTES_PER_DAY), duration: MIN_WINDOW_MINUTES }];
  return candidates.find(candidate => !backupOverlapsMaintenance(backup, candidate));
}

function formatTime(minuteOfDay: number): string {
  const m = mod(minuteOfDay, MINUTES_PER_DAY);
  return `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

function formatWeekTime(minuteOfWeek: number): string {
  const m = mod(minuteOfWeek, MINUTES_PER_WEEK);
  return `${WEEKDAYS[Math.floor(m / MINUTES_PER_DAY)]}:${formatTime(m)}`;
}

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}

function mod(n: number, period: number): number {
  return ((n % period) + period) % period;
}
