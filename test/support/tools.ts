import { spawnSync } from 'child_process';

/**
 * Whether an external tool the test needs is on the PATH.
 *
 * In CI (CI=true) a missing tool is a failure, not a skip: a suite that silently skips its real-engine
 * tests would report green without having tested anything. Outside CI the test is skipped with a loud
 * warning that says how to install the tool.
 */
export function toolAvailable(command: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
  if (!found) {
    const message = `REQUIRED TOOL MISSING: '${command}' is not installed; run 'bash scripts/install-test-tools.sh'`;
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`${message} (CI=true: failing instead of skipping)`);
    }
    // eslint-disable-next-line no-console
    console.warn(`\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n${message}\nTHESE TESTS ARE SKIPPED, NOT PASSED\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`);
  }
  return found;
}

/** `describe` when the tool is present, `describe.skip` (after the loud warning) when it is not. */
export function describeWithTool(command: string): jest.Describe {
  return toolAvailable(command) ? describe : describe.skip;
}
