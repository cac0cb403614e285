/**
 * The default export timeout of a group, from its node type's memory (pure; the construct uses it when
 * `exportTimeout` is not given). Not part of the jsii API.
 *
 * How long CopySnapshot to S3 takes is not documented; third-party scripts wait up to 2 hours. The export writes at
 * most the node's memory, so the budget grows with it: 30 minutes plus 10 minutes per GiB (a conservative 1.7 MB/s),
 * capped at 12 hours. An export is never timed out while its source snapshot is seen busy, and a later attempt still
 * commits an earlier attempt's objects, so a timeout that is too short costs a retry, never a backup.
 */
import { nodeMemoryGiB } from '../private/node-memory';

/** For node types the memory table does not list. */
export const UNKNOWN_NODE_EXPORT_TIMEOUT_SECONDS = 2 * 3600;
export const EXPORT_TIMEOUT_BASE_SECONDS = 30 * 60;
export const EXPORT_TIMEOUT_SECONDS_PER_GIB = 10 * 60;
export const EXPORT_TIMEOUT_CAP_SECONDS = 12 * 3600;

/** 30 min + 10 min per GiB of the node type's memory, capped at 12 h; 2 h for an unknown node type. */
export function defaultExportTimeoutSeconds(nodeType: string): number {
  const gib = nodeMemoryGiB(nodeType);
  if (gib === undefined) {
    return UNKNOWN_NODE_EXPORT_TIMEOUT_SECONDS;
  }
  const seconds = EXPORT_TIMEOUT_BASE_SECONDS + Math.ceil(gib * EXPORT_TIMEOUT_SECONDS_PER_GIB);
  return Math.min(EXPORT_TIMEOUT_CAP_SECONDS, seconds);
}
