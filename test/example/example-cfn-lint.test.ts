import { spawnSync } from 'child_process';
import * as path from 'path';
import { exampleApp } from './synth-helpers';
import { toolAvailable } from '../support/tools';

const lint = toolAvailable('cfn-lint') ? test : test.skip;

describe('example disaster-recovery app under cfn-lint', () => {
  const { app } = exampleApp();
  const assembly = app.synth();

  lint.each(assembly.stacks.map((s) => [s.stackName, s.templateFile]))('%s has zero cfn-lint findings', (_name, templateFile) => {
    // W3005 (redundant DependsOn) is a known false positive on CDK-generated Lambda roles.
    const result = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', path.join(assembly.directory, templateFile)], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
