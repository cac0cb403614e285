import * as fc from 'fast-check';
import {
  Arc,
  arcsOverlap,
  backupOverlapsMaintenance,
  chooseBackupWindow,
  chooseMaintenanceWindow,
  describeMinutes,
  formatDailyWindow,
  formatWeeklyWindow,
  MINUTES_PER_DAY,
  MINUTES_PER_WEEK,
  parseDailyWindow,
  parseWeeklyWindow,
} from '../../lib/private/windows';

/** Brute force: the set of weekly minutes a daily window covers, and whether it shares one with a weekly window. */
function bruteForceOverlap(backup: Arc, maintenance: Arc): boolean {
  const covered = new Uint8Array(MINUTES_PER_WEEK);
  for (let day = 0; day < 7; day++) {
    for (let i = 0; i < backup.duration; i++) {
      covered[(day * MINUTES_PER_DAY + backup.start + i) % MINUTES_PER_WEEK] = 1;
    }
  }
  for (let i = 0; i < maintenance.duration; i++) {
    if (covered[(maintenance.start + i) % MINUTES_PER_WEEK]) {
      return true;
    }
  }
  return false;
}

const dailyArc = fc.record({
  start: fc.integer({ min: 0, max: MINUTES_PER_DAY - 1 }),
  duration: fc.integer({ min: 1, max: MINUTES_PER_DAY - 1 }),
});
const weeklyArc = fc.record({
  start: fc.integer({ min: 0, max: MINUTES_PER_WEEK - 1 }),
  duration: fc.integer({ min: 1, max: MINUTES_PER_WEEK - 1 }),
});

describe('parseDailyWindow', () => {
  test('parses a window within a day', () => {
    expect(parseDailyWindow('03:00-05:30')).toEqual({ start: 180, duration: 150 });
  });

  test('parses a window that wraps midnight', () => {
    expect(parseDailyWindow('23:30-00:30')).toEqual({ start: 1410, duration: 60 });
  });

  test('gives zero duration when start equals end', () => {
    expect(parseDailyWindow('05:00-05:00')).toEqual({ start: 300, duration: 0 });
  });

  test.each(['5:00-6:00', '24:00-01:00', '05:60-07:00', '05:00 - 06:00', 'sun:05:00-sun:06:00', ''])('fails on %p', text => {
    expect(parseDailyWindow(text)).toBeUndefined();
  });
});

describe('parseWeeklyWindow', () => {
  test('parses a window that crosses into the next day', () => {
    expect(parseWeeklyWindow('sun:23:00-mon:01:30')).toEqual({ start: 1380, duration: 150 });
  });

  test('parses a window that wraps the end of the week', () => {
    expect(parseWeeklyWindow('sat:23:30-sun:00:30')).toEqual({ start: 6 * MINUTES_PER_DAY + 1410, duration: 60 });
  });

  test('accepts upper-case day names', () => {
    expect(parseWeeklyWindow('SUN:05:00-Sun:06:00')).toEqual({ start: 300, duration: 60 });
  });

  test.each(['sunday:05:00-sunday:06:00', 'sun:5:00-sun:06:00', 'xyz:05:00-sun:06:00', '05:00-06:00'])('fails on %p', text => {
    expect(parseWeeklyWindow(text)).toBeUndefined();
  });
});

describe('formatting', () => {
  test('formats a daily window that wraps midnight', () => {
    expect(formatDailyWindow({ start: 1410, duration: 60 })).toBe('23:30-00:30');
  });

  test('formats a weekly window that wraps the week', () => {
    expect(formatWeeklyWindow({ start: 6 * MINUTES_PER_DAY + 1410, duration: 60 })).toBe('sat:23:30-sun:00:30');
  });

  test('describes minutes', () => {
    expect([describeMinutes(30), describeMinutes(60), describeMinutes(61), describeMinutes(150), describeMinutes(0)])
      .toEqual(['30 minutes', '1 hour', '1 hour 1 minute', '2 hours 30 minutes', '0 minutes']);
  });

  test('daily windows round-trip through format and parse', () => {
    fc.assert(fc.property(dailyArc, arc => {
      expect(parseDailyWindow(formatDailyWindow(arc))).toEqual(arc);
    }));
  });

  test('weekly windows round-trip through format and parse', () => {
    fc.assert(fc.property(weeklyArc, arc => {
      expect(parseWeeklyWindow(formatWeeklyWindow(arc))).toEqual(arc);
    }));
  });
});

describe('overlap', () => {
  test('adjacent windows do not overlap', () => {
    expect(backupOverlapsMaintenance(parseDailyWindow('03:00-05:00')!, parseWeeklyWindow('sun:05:00-sun:06:00')!)).toBe(false);
  });

  test('a backup window overlaps a maintenance window on a later weekday', () => {
    expect(backupOverlapsMaintenance(parseDailyWindow('04:00-06:00')!, parseWeeklyWindow('wed:05:00-wed:07:00')!)).toBe(true);
  });

  test('a backup window wrapping midnight overlaps a maintenance window wrapping the week', () => {
    expect(backupOverlapsMaintenance(parseDailyWindow('23:30-00:30')!, parseWeeklyWindow('sun:00:00-sun:01:00')!)).toBe(true);
  });

  test('arcs overlap symmetrically', () => {
    fc.assert(fc.property(weeklyArc, weeklyArc, (a, b) => {
      expect(arcsOverlap(a, b, MINUTES_PER_WEEK)).toBe(arcsOverlap(b, a, MINUTES_PER_WEEK));
    }));
  });

  test('agrees with a minute-by-minute check on the weekly timeline', () => {
    fc.assert(fc.property(dailyArc, weeklyArc, (backup, maintenance) => {
      expect(backupOverlapsMaintenance(backup, maintenance)).toBe(bruteForceOverlap(backup, maintenance));
    }), { numRuns: 300 });
  });
});

describe('choosing windows', () => {
  test('keeps 03:00-05:00 when the maintenance window allows it', () => {
    expect(chooseBackupWindow(parseWeeklyWindow('sun:23:00-mon:01:30')!)).toEqual({ start: 180, duration: 120 });
  });

  test('moves the backup window after a maintenance window that covers 03:00', () => {
    expect(formatDailyWindow(chooseBackupWindow(parseWeeklyWindow('tue:02:00-tue:08:00')!)!)).toBe('08:00-10:00');
  });

  test('falls back to a 1-hour backup window when no 2-hour gap exists', () => {
    expect(formatDailyWindow(chooseBackupWindow(parseWeeklyWindow('sun:00:00-sun:23:00')!)!)).toBe('23:00-00:00');
  });

  test('gives up when no 60-minute gap exists on some day', () => {
    expect(chooseBackupWindow(parseWeeklyWindow('sun:00:00-sun:23:30')!)).toBeUndefined();
  });

  test('keeps sun:05:00-sun:06:00 when the backup window allows it', () => {
    expect(chooseMaintenanceWindow(parseDailyWindow('01:00-03:00')!)).toEqual({ start: 300, duration: 60 });
  });

  test('starts the maintenance window when an overlapping backup window ends', () => {
    expect(formatWeeklyWindow(chooseMaintenanceWindow(parseDailyWindow('04:00-08:00')!)!)).toBe('sun:08:00-sun:09:00');
  });

  test('gives up when the backup window leaves under 60 minutes a day', () => {
    expect(chooseMaintenanceWindow(parseDailyWindow('06:00-05:30')!)).toBeUndefined();
  });

  test('a chosen backup window never overlaps the maintenance window and is at least 60 minutes', () => {
    fc.assert(fc.property(weeklyArc, maintenance => {
      const chosen = chooseBackupWindow(maintenance);
      if (chosen) {
        expect(chosen.duration).toBeGreaterThanOrEqual(60);
        expect(bruteForceOverlap(chosen, maintenance)).toBe(false);
      } else {
        // No candidate fits: then no 60-minute window on a half hour is free on every day.
        expect(maintenance.duration).toBeGreaterThan(MINUTES_PER_DAY - 90);
      }
    }), { numRuns: 200 });
  });

  test('a chosen maintenance window never overlaps the backup window and exists whenever 60 minutes a day are free', () => {
    fc.assert(fc.property(dailyArc, backup => {
      const chosen = chooseMaintenanceWindow(backup);
      if (backup.duration <= MINUTES_PER_DAY - 60) {
        expect(chosen).toBeDefined();
        expect(chosen!.duration).toBe(60);
        expect(bruteForceOverlap(backup, chosen!)).toBe(false);
      } else {
        expect(chosen).toBeUndefined();
      }
    }), { numRuns: 200 });
  });
});
