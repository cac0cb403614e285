/**
 * The verifier's only error type (re-exported by `verifier.ts`).
 */

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
