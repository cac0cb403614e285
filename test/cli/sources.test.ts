import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadS3Sdk, openFile } from '../../lib/cli/sources';

describe('sources of the verify command', () => {
  test('a directory is refused before reading', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-src-'));
    try {
      await expect(openFile(dir)).rejects.toThrow(`${dir} is not a regular file`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a local file announces its size, so a short read is noticed', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'verify-src-')), 'x.rdb');
    fs.writeFileSync(file, Buffer.alloc(3000, 1));
    try {
      const source = await openFile(file);
      let bytes = 0;
      for await (const chunk of source.chunks) {
        bytes += chunk.length;
      }
      expect([source.expectedSize, bytes]).toEqual([3000, 3000]);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test('without @aws-sdk/client-s3 an s3:// URL fails with how to install it', () => {
    jest.isolateModules(() => {
      jest.doMock('@aws-sdk/client-s3', () => {
        throw Object.assign(new Error("Cannot find module '@aws-sdk/client-s3'"), { code: 'MODULE_NOT_FOUND' });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sources = require('../../lib/cli/sources') as typeof import('../../lib/cli/sources');
      expect(() => sources.loadS3Sdk([os.tmpdir()])).toThrow(sources.S3_SDK_MISSING);
      expect(sources.S3_SDK_MISSING).toContain('npm install @aws-sdk/client-s3');
    });
    jest.dontMock('@aws-sdk/client-s3');
  });

  test('with the SDK installed it is loaded', () => {
    expect(typeof loadS3Sdk().GetObjectCommand).toBe('function');
  });
});
