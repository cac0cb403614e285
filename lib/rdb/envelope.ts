/**
 * Partial verification for files too large to stream in a time budget (contract; the implementation replaces the body).
 */
import { RdbHeader } from './header';
import { RdbChecksumStatus } from './types';

export interface RdbEnvelope {
  readonly header: RdbHeader;
  /** The trailer's CRC-64 as 16 lowercase hex digits (not checked against the content: that needs every byte). */
  readonly crc64: string;
  /** `disabled` for a zero trailer, `absent` before RDB 5; otherwise `ok` means "a trailer is present". */
  readonly checksum: RdbChecksumStatus;
}

/**
 * Checks what can be checked without reading the whole file: the header (first bytes), the EOF opcode before the
 * 8-byte trailer and the trailer (last bytes), and the size.
 *
 * @param head the first bytes of the file (256 are plenty)
 * @param tail the last bytes of the file (at least 9)
 * @param sizeBytes the file's size
 * @throws RdbVerifyError naming the offset and what was expected
 */
export function checkRdbEnvelope(_head: Uint8Array, _tail: Uint8Array, _sizeBytes: number): RdbEnvelope {
  throw new Error('checkRdbEnvelope is not implemented yet');
}
