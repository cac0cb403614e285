import { DEFAULT_FAULTS, simulate } from './index';
(async () => {
  const t = Date.now();
  const r = await simulate({ seed: 75, groups: 3, days: 4, intervalMinutes: 75, faults: DEFAULT_FAULTS, exportStatusVisible: false });
  console.log('sim', (Date.now() - t) / 1000, 's', r.commits);
})();
