import * as fs from 'fs';
import * as path from 'path';
import { RdbBuilder, str } from './rdb-builder';
import { checkRdbEnvelope } from '../../lib/rdb/envelope';
import { RdbVerifyError } from '../../lib/rdb/verifier';

const fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'rdb', 'redis-7.0.rdb'));
const ends = (file: Buffer) => [file.subarray(0, 256), file.subarray(Math.max(0, file.length - 64)), file.length] as const;

describe('checkRdbEnvelope', () => {
  test('reads the header and the trailer of a real dump', () => {
    const trailer = Buffer.from(fixture.subarray(fixture.length - 8)).reverse().toString('hex');
    expect(checkRdbEnvelope(...ends(fixture))).toEqual({
      header: { format: 'redis', rdbVersion: 10, writerEngine: 'redis', writerVersion: expect.stringMatching(/^7\.0\./) },
      crc64: trailer,
      checksum: 'ok',
    });
  });

  test('a zero trailer means checksum disabled; before RDB 5 there is no trailer', () => {
    const zero = new RdbBuilder('REDIS0010').key(0, 'k', str('v')).build('zero');
    expect(checkRdbEnvelope(...ends(zero))).toMatchObject({ checksum: 'disabled', crc64: '0000000000000000' });
    const old = new RdbBuilder('REDIS0004').key(0, 'k', str('v')).build('none');
    expect(checkRdbEnvelope(...ends(old))).toMatchObject({ checksum: 'absent', header: { rdbVersion: 4 } });
  });

  test('a file cut before its end has no EOF opcode where it should be, and the message names the offset', () => {
    const cut = fixture.subarray(0, fixture.length - 20);
    expect(() => checkRdbEnvelope(...ends(cut))).toThrow(RdbVerifyError);
    expect(() => checkRdbEnvelope(...ends(cut))).toThrow(`at byte ${cut.length - 9}: truncated or corrupt: expected the EOF opcode 0xff before the 8-byte CRC-64 trailer`);
  });

  test.each([
    ['empty', Buffer.alloc(0), 'not an RDB file: the object is empty'],
    ['not an RDB', Buffer.from('{"formatVersion":1}'), "expected the header to start with 'REDIS' or 'VALKEY'"],
    ['only a header', Buffer.from('REDIS0010'), 'truncated: a 9-byte file cannot hold'],
  ])('%s: RdbVerifyError', (_name, file, message) => {
    let error: unknown;
    try {
      checkRdbEnvelope(file.subarray(0, 256), file.subarray(Math.max(0, file.length - 64)), file.length);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RdbVerifyError);
    expect((error as Error).message).toContain(message);
  });

  test('a tail shorter than the trailer and EOF, or bytes beyond the size, are refused', () => {
    expect(() => checkRdbEnvelope(fixture.subarray(0, 256), fixture.subarray(fixture.length - 4), fixture.length)).toThrow('need the last 9 bytes');
    expect(() => checkRdbEnvelope(fixture.subarray(0, 256), fixture.subarray(fixture.length - 64), 100)).toThrow('got 256 bytes of a file said to be 100 bytes long');
  });
});
