/**
 * Reading the probe's two queues (pure): one subscribed to the group's SNS topic, one targeted by an EventBridge
 * rule for `aws.elasticache`. Each SQS message body becomes zero or more `ReceivedEvent`s.
 */
import { ReceivedEvent } from './probe-state';

const RAW_LIMIT = 500;

function parseJson(text: string | undefined): unknown {
  if (text === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An SQS message from the SNS subscription (raw delivery off: the body is the SNS envelope). ElastiCache's message is a
 * JSON object mapping each event name to the cluster it concerns, e.g. `{"ElastiCache:SnapshotComplete":"g-002"}`.
 */
export function parseSnsMessage(body: string, receivedAt: string): ReceivedEvent[] {
  const envelope = parseJson(body);
  const message = isRecord(envelope) && typeof envelope.Message === 'string' ? envelope.Message : body;
  const raw = message.slice(0, RAW_LIMIT);
  const parsed = parseJson(message);
  if (isRecord(parsed)) {
    return Object.entries(parsed).map(([type, subject]) => ({
      channel: 'sns', receivedAt, type, subject: typeof subject === 'string' ? subject : JSON.stringify(subject), raw,
    }));
  }
  const subject = isRecord(envelope) && typeof envelope.Subject === 'string' ? envelope.Subject : undefined;
  return [{ channel: 'sns', receivedAt, type: subject ?? 'unparsed', raw }];
}

/** An SQS message from the EventBridge rule: the body is the event itself. */
export function parseEventBridgeMessage(body: string, receivedAt: string): ReceivedEvent[] {
  const event = parseJson(body);
  if (!isRecord(event)) {
    return [{ channel: 'eventbridge', receivedAt, type: 'unparsed', raw: body.slice(0, RAW_LIMIT) }];
  }
  const detail = isRecord(event.detail) ? event.detail : {};
  const subject = [detail.SourceIdentifier, detail.SourceArn, detail.snapshotName]
    .find((v): v is string => typeof v === 'string');
  const type = typeof event['detail-type'] === 'string' ? event['detail-type'] : 'unparsed';
  return [{ channel: 'eventbridge', receivedAt, type, subject, raw: body.slice(0, RAW_LIMIT) }];
}
