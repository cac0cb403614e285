import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { exampleApp, validationFindings } from './synth-helpers';
import { addNagPacks } from '../support/nag';

describe('example disaster-recovery app under cdk-nag', () => {
  test('the four packs (AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1) report zero unacknowledged findings', () => {
    const { app } = exampleApp();
    addNagPacks(app);
    let findings = '';
    try {
      app.synth();
    } catch (e) {
      findings = validationFindings(e);
    }
    expect(findings).toBe('');
  });

  test('a finding that is not acknowledged fails synthesis (the check above can fail)', () => {
    const { app, stacks } = exampleApp();
    new s3.Bucket(stacks.primary, 'UnprotectedBucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});
