import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';

/** Adds the four cdk-nag packs the project is held to: AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1. */
export function addNagPacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app), new NIST80053R5Checks(app), new PCIDSS321Checks(app));
}

/** Synthesizes the app and returns cdk's validation message ('' when every finding is acknowledged). */
export function synthFindings(app: App): string {
  try {
    app.synth();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}
