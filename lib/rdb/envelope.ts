/**
 * Partial verification for files too large to stream in a time budget: the header, the EOF opcode before the
 * trailer, the trailer and the size. It cannot prove the content intact (that needs every byte and the CRC).
 */
import { hex64 } from './crc64';
import { RdbVerifyError } from './errors';
import { parseRdbHeader, RdbHeader, RdbParseError } from './header';
import { RdbChecksumStatus } from './types';

export interface RdbEnvelope {
  readonly header: RdbHeader;
  /** The trailer's CRC-64 as 16 lowercase hex digits (not checked against the content: that needs every byte). */
  readonly crc64: string;
  /** `disabled` for a zero trailer, `absent` before RDB 5; otherwise `ok` means "a trailer is present". */
  readonly checksum: RdbChecksumStatus;
}

const HEADER_LENGTH = 9;
const TRAILER_LENGTH = 8;
const EOF_OPCODE = 0xff;
const FIRST_VERSION_WITH_CHECKSUM = 5;

/**
 * Checks what can be checked without reading the whole file: the header (first bytes), the EOF opcode before the
 * 8-byte trailer and the trailer (last bytes), and the size.
 *
 * @param head the first bytes of the file (256 are plenty)
 * @param tail the last bytes of the file (at least 9)
 * @param sizeBytes the file's size
 * @throws RdbVerifyError naming the offset and what was expected
 */
export function checkRdbEnvelope(head: Uint8Array, tail: Uint8Array, sizeBytes: number): RdbEnvelope {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new RdbVerifyError(`at byte 0: the size must be a whole number of bytes, got ${sizeBytes}`, 0);
  }
  if (head.length > sizeBytes || tail.length > sizeBytes) {
    throw new RdbVerifyError(`at byte 0: got ${Math.max(head.length, tail.length)} bytes of a file said to be ${sizeBytes} bytes long`, 0);
  }
  let header: RdbHeader;
  try {
    header = parseRdbHeader(head.subarray(0, Math.min(head.length, 256)));
  } catch (e) {
    if (e instanceof RdbParseError) throw new RdbVerifyError(`at byte 0: ${e.message}`, 0);
    throw new RdbVerifyError(`at byte 0: cannot read the header: ${String(e)}`, 0);
  }
  const hasTrailer = header.rdbVersion >= FIRST_VERSION_WITH_CHECKSUM;
  const footer = hasTrailer ? TRAILER_LENGTH + 1 : 1;
  // The smallest dump is the header, then EOF (and the trailer).
  if (sizeBytes < HEADER_LENGTH + footer) {
    throw new RdbVerifyError(`at byte ${sizeBytes}: truncated: a ${sizeBytes}-byte file cannot hold the ${HEADER_LENGTH}-byte header and the ${footer}-byte end (EOF opcode${hasTrailer ? ' and CRC-64 trailer' : ''})`, sizeBytes);
  }
  if (tail.length < footer) {
    throw new RdbVerifyError(`at byte ${sizeBytes - tail.length}: need the last ${footer} bytes of the file to check its end, got ${tail.length}`, sizeBytes - tail.length);
  }
  const eofAt = sizeBytes - footer;
  const eof = tail[tail.length - footer];
  if (eof !== EOF_OPCODE) {
    throw new RdbVerifyError(
      `at byte ${eofAt}: truncated or corrupt: expected the EOF opcode 0xff ${hasTrailer ? 'before the 8-byte CRC-64 trailer' : 'as the last byte'}, got 0x${eof.toString(16).padStart(2, '0')}`,
      eofAt,
    );
  }
  if (!hasTrailer) {
    return { header, crc64: '0000000000000000', checksum: 'absent' };
  }
  const t = tail.subarray(tail.length - TRAILER_LENGTH);
  const lo = t[0] + t[1] * 0x100 + t[2] * 0x10000 + t[3] * 0x1000000;
  const hi = t[4] + t[5] * 0x100 + t[6] * 0x10000 + t[7] * 0x1000000;
  return { header, crc64: hex64(lo, hi), checksum: lo === 0 && hi === 0 ? 'disabled' : 'ok' };
}
