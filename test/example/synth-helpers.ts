import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { createDisasterRecoveryApp, DisasterRecoveryStacks } from '../../examples/dr-app-stacks';

/** A fresh example app in its own output directory, without stack traces in metadata. */
export function exampleApp(): { app: App; stacks: DisasterRecoveryStacks; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecb-example-'));
  const app = new App({
    outdir,
    context: { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true },
  });
  const stacks = createDisasterRecoveryApp(app);
  return { app, stacks, outdir };
}

/** Reads the findings cdk's validation report wrote when policy validation failed. */
export function validationFindings(error: unknown): string {
  const match = /found in: (\S+validation-report\.json)/.exec(String(error));
  if (!match || !fs.existsSync(match[1])) {
    return String(error);
  }
  const report = JSON.parse(fs.readFileSync(match[1], 'utf8'));
  const lines: string[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const violation of plugin.violations ?? []) {
      for (const resource of violation.violatingResources ?? violation.violatingConstructs ?? []) {
        lines.push(`${violation.ruleName}: ${resource.resourceLogicalId ?? resource.constructPath ?? JSON.stringify(resource)} ${resource.locations?.join(',') ?? ''}`);
      }
      if (!(violation.violatingResources ?? violation.violatingConstructs)) {
        lines.push(JSON.stringify(violation).slice(0, 500));
      }
    }
  }
  return lines.join('\n') || JSON.stringify(report).slice(0, 4000);
}
