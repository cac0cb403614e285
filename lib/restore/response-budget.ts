/**
 * The size of the restore preflight's answer to CloudFormation (pure).
 *
 * CloudFormation refuses a custom resource response whose body is over 4096 bytes ("The total size of the response
 * body can't exceed 4096 bytes": AWS CloudFormation User Guide, Custom resource response objects), and then reports
 * that instead of the preflight's result. The preflight answers through aws-cdk-lib's `custom_resources.Provider`
 * framework, which PUTs one JSON body (aws-cdk-lib custom-resources/lib/provider-framework/runtime/cfn-response.js):
 * `Status`, `Reason`, `StackId`, `RequestId`, `PhysicalResourceId`, `LogicalResourceId` and `Data`. On success the
 * reason is the status itself; on failure it is the handler's error message, a blank line, `Logs: /aws/lambda/<name>`
 * and the rest of the error's stack trace, and a failed Create carries the framework's marker as physical id.
 * Everything in that body counts, so the preflight budgets the whole of it, not only `Data`.
 */

/** CloudFormation's limit on a custom resource response body. */
export const RESPONSE_LIMIT_BYTES = 4096;
/** The physical id the Provider framework sends when a Create fails. */
export const CREATE_FAILED_PHYSICAL_ID = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
/** Lambda function names are at most 64 characters: the budget assumes the longest when the name is unknown. */
export const MAX_FUNCTION_NAME_LENGTH = 64;

/** The fields of a CloudFormation request that the framework copies into its response. */
export interface ResponseEnvelope {
  readonly RequestType: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
}

/** Bytes of `value` once written in a JSON document (quotes excluded). */
export function jsonStringBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8') - 2;
}

/** Bytes of the body the framework sends for a successful answer. */
export function successBodyBytes(request: ResponseEnvelope, physicalResourceId: string, data: Record<string, string> | undefined): number {
  return Buffer.byteLength(JSON.stringify({
    Status: 'SUCCESS',
    Reason: 'SUCCESS',
    StackId: request.StackId,
    RequestId: request.RequestId,
    PhysicalResourceId: physicalResourceId,
    LogicalResourceId: request.LogicalResourceId,
    Data: data,
  }), 'utf8');
}

/**
 * The reason the framework sends for a handler error: the message, a blank line, the log group, and the stack frames
 * after the first line (none: the preflight throws errors whose stack is their message alone).
 */
export function failureReason(message: string, functionName: string): string {
  return [message, '', `Logs: /aws/lambda/${functionName}`, ''].join('\n');
}

/** Bytes of the body the framework sends when the handler throws `message`. */
export function failureBodyBytes(request: ResponseEnvelope, message: string, functionName: string = 'x'.repeat(MAX_FUNCTION_NAME_LENGTH)): number {
  return Buffer.byteLength(JSON.stringify({
    Status: 'FAILED',
    Reason: failureReason(message, functionName),
    StackId: request.StackId,
    RequestId: request.RequestId,
    PhysicalResourceId: request.PhysicalResourceId || CREATE_FAILED_PHYSICAL_ID,
    LogicalResourceId: request.LogicalResourceId,
  }), 'utf8');
}

/** The JSON-encoded bytes a failure message may take so that the whole failure body fits. */
export function failureMessageBudget(request: ResponseEnvelope, functionName?: string): number {
  return Math.max(0, RESPONSE_LIMIT_BYTES - failureBodyBytes(request, '', functionName));
}

/** The longest prefix of `text` (in whole characters) whose JSON encoding takes at most `maxBytes`. */
export function fitToBytes(text: string, maxBytes: number): string {
  if (jsonStringBytes(text) <= maxBytes) {
    return text;
  }
  const chars = Array.from(text);
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonStringBytes(chars.slice(0, mid).join('')) <= maxBytes) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return chars.slice(0, low).join('');
}

/**
 * An error whose stack is its message alone: the Lambda runtime sends the stack lines as the trace, and the
 * framework appends every line after the first to the reason, which would take bytes the message needs.
 */
export function errorWithoutFrames(message: string): Error {
  // One line: the runtime splits the stack on newlines, and later lines would be repeated after the log group.
  const error = new Error(message.replace(/\s*\n\s*/g, ' '));
  error.stack = `${error.name}: ${error.message}`;
  return error;
}
