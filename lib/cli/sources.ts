/**
 * The I/O of the `verify` command: opening a local file, standard input or an S3 object as a stream of chunks.
 *
 * The AWS SDK is loaded only when an `s3://` URL is given, and from wherever it is installed: this package does not
 * depend on it at run time (Lambda runtimes and CDK apps usually have it; a plain `npx` run may not).
 */
import * as fs from 'fs';
import type * as S3 from '@aws-sdk/client-s3';
import { OpenedSource, S3Options, VerifyTarget } from './verify-command';

/** Chunk size for local reads: large enough that per-chunk overhead does not matter, small enough to stay flat. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Opens any target. */
export async function openTarget(target: VerifyTarget, options: S3Options): Promise<OpenedSource> {
  switch (target.kind) {
    case 'file': return openFile(target.path);
    case 'stdin': return { chunks: process.stdin };
    case 's3': return openS3Object(target.bucket, target.key, options);
  }
}

/** A local file; fails before reading when it is missing or not a regular file. */
export async function openFile(file: string): Promise<OpenedSource> {
  const stat = await fs.promises.stat(file);
  if (!stat.isFile()) {
    throw new Error(`${file} is not a regular file`);
  }
  return {
    chunks: fs.createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }),
    expectedSize: stat.size,
  };
}

/** An S3 object, streamed from one GetObject. */
export async function openS3Object(bucket: string, key: string, options: S3Options): Promise<OpenedSource> {
  const sdk = loadS3Sdk();
  const client = new sdk.S3Client({
    region: options.region,
    endpoint: options.endpointUrl,
    forcePathStyle: options.endpointUrl !== undefined,
    // The bucket may live in another region than the one configured.
    followRegionRedirects: true,
  });
  try {
    const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = object.Body as AsyncIterable<Uint8Array> | undefined;
    if (!body || typeof body[Symbol.asyncIterator] !== 'function') {
      throw new Error(`GetObject s3://${bucket}/${key} returned no readable body`);
    }
    const details: Array<[string, string]> = [];
    if (object.VersionId) {
      details.push(['version id', object.VersionId]);
    }
    if (object.ETag) {
      details.push(['etag', object.ETag]);
    }
    if (object.LastModified) {
      details.push(['last modified', object.LastModified.toISOString()]);
    }
    return { chunks: destroyClientAfter(body, client), expectedSize: object.ContentLength, details };
  } catch (e) {
    client.destroy();
    throw e;
  }
}

async function* destroyClientAfter(body: AsyncIterable<Uint8Array>, client: S3.S3Client): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } finally {
    client.destroy();
  }
}

/** Message when the SDK is missing; exported for tests. */
export const S3_SDK_MISSING = 'reading s3:// URLs needs the AWS SDK for JavaScript v3 S3 client, which is not installed: '
  + 'run `npm install @aws-sdk/client-s3` in this project (or next to cdk-elasticache-backup), '
  + 'or download the object (`aws s3 cp s3://bucket/key .`) and verify the local file';

/** Loads `@aws-sdk/client-s3` from this package's dependencies, else from the current directory's project. */
export function loadS3Sdk(resolvePaths: readonly string[] = [process.cwd()]): typeof S3 {
  try {
    // An optional run-time dependency (devDependency here): loaded only for s3:// URLs, with a clear error when absent.
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    return require('@aws-sdk/client-s3') as typeof S3;
  } catch (e) {
    if (!isModuleNotFound(e)) {
      throw e;
    }
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve('@aws-sdk/client-s3', { paths: [...resolvePaths] })) as typeof S3;
  } catch (e) {
    if (isModuleNotFound(e)) {
      throw new Error(S3_SDK_MISSING);
    }
    throw e;
  }
}

function isModuleNotFound(e: unknown): boolean {
  return (e as { code?: unknown } | undefined)?.code === 'MODULE_NOT_FOUND';
}
