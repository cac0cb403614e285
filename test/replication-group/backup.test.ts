import { Duration, Token } from 'aws-cdk-lib';
import { BackupWindow, DayOfWeek, MaintenanceWindow } from '../../lib/replication-group/backup';

describe('BackupWindow', () => {
  test('fromString keeps the text', () => {
    expect(BackupWindow.fromString('03:00-05:00').value).toBe('03:00-05:00');
  });

  test('startingAt defaults to one hour', () => {
    expect(BackupWindow.startingAt({ hour: 4 }).value).toBe('04:00-05:00');
  });

  test('startingAt wraps midnight', () => {
    expect(BackupWindow.startingAt({ hour: 23, minute: 30 }, Duration.minutes(90)).toString()).toBe('23:30-01:00');
  });

  test.each<[string, () => BackupWindow, string]>([
    ['fails with hour 24', () => BackupWindow.startingAt({ hour: 24 }), 'BackupWindow.startingAt: \'hour\' must be an integer from 0 to 23, got 24'],
    ['fails with minute 60', () => BackupWindow.startingAt({ hour: 1, minute: 60 }), 'BackupWindow.startingAt: \'minute\' must be an integer from 0 to 59, got 60'],
    ['fails with 30 minutes', () => BackupWindow.startingAt({ hour: 1 }, Duration.minutes(30)),
      'BackupWindow.startingAt: \'duration\' must be whole minutes, at least 60 minutes and under 24 hours, got 30 minutes'],
    ['fails with 24 hours', () => BackupWindow.startingAt({ hour: 1 }, Duration.hours(24)),
      'BackupWindow.startingAt: \'duration\' must be whole minutes, at least 60 minutes and under 24 hours, got 1 day'],
    ['fails with seconds', () => BackupWindow.startingAt({ hour: 1 }, Duration.seconds(3630)),
      'BackupWindow.startingAt: \'duration\' must be whole minutes, at least 60 minutes and under 24 hours, got 1 hour 30 seconds'],
    ['fails with a deploy-time duration', () => BackupWindow.startingAt({ hour: 1 }, Duration.minutes(Token.asNumber({ Ref: 'D' }))),
      'BackupWindow.startingAt: \'duration\' cannot be a deploy-time value; the window text is built at synth time'],
  ])('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe('MaintenanceWindow', () => {
  test('fromString keeps the text', () => {
    expect(MaintenanceWindow.fromString('sun:23:00-mon:01:30').value).toBe('sun:23:00-mon:01:30');
  });

  test('startingAt defaults to one hour', () => {
    expect(MaintenanceWindow.startingAt({ day: DayOfWeek.WEDNESDAY, hour: 2, minute: 15 }).value).toBe('wed:02:15-wed:03:15');
  });

  test('startingAt wraps the end of the week', () => {
    expect(MaintenanceWindow.startingAt({ day: DayOfWeek.SATURDAY, hour: 23 }, Duration.hours(3)).toString()).toBe('sat:23:00-sun:02:00');
  });

  test('fails with a duration of a week', () => {
    expect(() => MaintenanceWindow.startingAt({ day: DayOfWeek.MONDAY, hour: 0 }, Duration.days(7)))
      .toThrow('MaintenanceWindow.startingAt: \'duration\' must be whole minutes, at least 60 minutes and at most 24 hours, got 7 days');
  });

  test('fails with an unknown day', () => {
    expect(() => MaintenanceWindow.startingAt({ day: 'sunday' as DayOfWeek, hour: 0 }))
      .toThrow('MaintenanceWindow.startingAt: \'day\' must be a DayOfWeek, got \'sunday\'');
  });
});
