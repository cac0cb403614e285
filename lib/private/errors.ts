import { IConstruct } from 'constructs';

/**
 * A configuration the service would reject, found at synth time.
 *
 * Messages name the property, the value received and what is allowed, so the user can fix the
 * app without reading CloudFormation events. Not exported from the package: jsii users see a plain Error.
 */
export class ValidationError extends Error {
  constructor(scope: IConstruct, message: string) {
    super(`${scope.node.path}: ${message}`);
    this.name = 'ValidationError';
  }
}

/** Renders a received value for an error message: strings quoted, everything else JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  if (value === undefined) {
    return 'undefined';
  }
  return JSON.stringify(value);
}
