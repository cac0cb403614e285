/** Shared fixtures of the probe's tests: a config, a run id, and states built by hand. */
import { ProbeConfig, ProbeState } from './probe-state';

export const RUN = 'abc123';
/** The names probeNames(RUN) must produce, written out (an oracle independent of probeNames). */
export const CONTROL = 'ecbprobe-abc123-control-xxxxxxxxxxxxxxxx';
export const LONG = 'ecbprobe-abc123-long-xxxxxxxxxxxxxxxxxxxx';
export const NOACL = 'ecbprobe-abc123-noacl';
export const ACL = 'ecbprobe-abc123-acl';

export const CONFIG: ProbeConfig = {
  groupId: 'ecb-probe',
  memberIds: ['ecb-probe-001', 'ecb-probe-002'],
  snapshotSourceId: 'ecb-probe-002',
  bucket: 'probe-bucket',
  backupWindow: '03:00-04:00',
};

export const T0 = '2026-12-01T10:00:00.000Z';

/** `minutes` after T0, as an ISO string. */
export function at(minutes: number): string {
  return new Date(Date.parse(T0) + minutes * 60_000).toISOString();
}

export function state(overrides: Partial<ProbeState> = {}): ProbeState {
  return {
    runId: RUN,
    startedAt: T0,
    flags: {},
    calls: {},
    quotaCreates: [],
    snapshots: {},
    exports: {},
    events: [],
    deleted: [],
    ...overrides,
  };
}
