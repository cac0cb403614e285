/**
 * The streaming RDB verifier (contract; the implementation replaces the bodies below).
 */
import { RdbReport, RdbVerifyOptions } from './types';

/** An RDB file is corrupt, truncated or not an RDB file. The only error the verifier throws. */
export class RdbVerifyError extends Error {
  /** Byte offset in the file where the problem was found. */
  public readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'RdbVerifyError';
    this.offset = offset;
  }
}

/** Feed the file in chunks of any size with `update`, then call `finish`. Memory stays flat in the file size. */
export class RdbVerifier {
  constructor(_options: RdbVerifyOptions = {}) {}
  /** @throws RdbVerifyError as soon as the bytes seen so far cannot be a valid file */
  public update(_chunk: Uint8Array): void {
    throw new RdbVerifyError('RdbVerifier is not implemented yet', 0);
  }
  /** @throws RdbVerifyError when the file ended early or the trailer does not match */
  public finish(): RdbReport {
    throw new RdbVerifyError('RdbVerifier is not implemented yet', 0);
  }
}

/** Verifies a whole file held in memory. */
export function verifyRdb(bytes: Uint8Array, options: RdbVerifyOptions = {}): RdbReport {
  const v = new RdbVerifier(options);
  v.update(bytes);
  return v.finish();
}

/** Verifies a file from a stream of chunks (an S3 GetObject body, a file read stream). */
export async function verifyRdbStream(chunks: AsyncIterable<Uint8Array>, options: RdbVerifyOptions = {}): Promise<RdbReport> {
  const v = new RdbVerifier(options);
  for await (const chunk of chunks) {
    v.update(chunk);
  }
  return v.finish();
}
