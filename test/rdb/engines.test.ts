/* eslint-disable no-bitwise */ // bit flips and binary fields are what these tests are about
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkRdb, keyspaceAfterLoad, parseKeyspace } from './engine-tools';
import { syntheticFiles } from './synthetic';
import { RdbVerifyError, verifyRdb } from '../../lib/rdb/verifier';
import { describeWithTool } from '../support/tools';

const script = path.join(__dirname, '..', '..', 'scripts', 'make-rdb-fixtures.sh');

/** The verifier's verdict: true when it accepts the file. */
function accepts(bytes: Uint8Array): boolean {
  try {
    verifyRdb(bytes);
    return true;
  } catch (e) {
    if (!(e instanceof RdbVerifyError)) throw e;
    return false;
  }
}

const ENGINES = [
  { engine: 'redis', server: 'redis-server', cli: 'redis-cli', checker: 'redis-check-rdb', dump: 'redis-7.0-all-types' },
  { engine: 'valkey', server: 'valkey-server', cli: 'valkey-cli', checker: 'valkey-check-rdb', dump: 'valkey-8.0-all-types' },
] as const;

for (const e of ENGINES) {
  describeWithTool(e.server)(`${e.server}`, () => {
    describeWithTool(e.checker)(`with ${e.checker}`, () => {
      describeWithTool('python3')('and the fixture script', () => {
        let dir: string;
        let dump: Buffer;
        let written: ReturnType<typeof parseKeyspace>;

        beforeAll(() => {
          dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-engines-'));
          const run = spawnSync('bash', [script, dir, e.engine], { encoding: 'utf8', timeout: 120_000 });
          if (run.status !== 0) throw new Error(`the fixture script failed: ${run.stdout}${run.stderr}`);
          dump = fs.readFileSync(path.join(dir, `${e.dump}.rdb`));
          written = parseKeyspace(fs.readFileSync(path.join(dir, `${e.dump}.keyspace`), 'utf8'));
        }, 130_000);

        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

        test('a fresh dump: the verifier counts per database what the server reported before SAVE', () => {
          expect(written.length).toBeGreaterThanOrEqual(3);
          expect(verifyRdb(dump).databases).toEqual(written);
        });

        test('the same dump loaded into a fresh server: its INFO keyspace equals the verifier\'s counts', async () => {
          const loaded = await keyspaceAfterLoad(e.server, e.cli, dump);
          expect(loaded).toEqual(verifyRdb(dump).databases);
        }, 30_000);

        test(`the verdict agrees with ${e.checker}: intact, truncated at 30 offsets, and with 10 flipped bits`, () => {
          expect(checkRdb(e.checker, dump).ok).toBe(true);
          expect(accepts(dump)).toBe(true);
          const cuts = [...Array.from({ length: 29 }, (_, i) => Math.floor((dump.length * (i + 1)) / 30)), dump.length - 1];
          for (const cut of cuts) {
            const truncated = dump.subarray(0, cut);
            const verdicts = { cut, checker: checkRdb(e.checker, truncated).ok, verifier: accepts(truncated) };
            expect(verdicts).toEqual({ cut, checker: false, verifier: false });
          }
          for (let i = 1; i <= 10; i++) {
            const flipped = Buffer.from(dump);
            const at = Math.floor((flipped.length * i) / 11);
            flipped[at] ^= 0x04;
            expect({ at, checker: checkRdb(e.checker, flipped).ok, verifier: accepts(flipped) }).toEqual({ at, checker: false, verifier: false });
          }
        }, 60_000);
      });
    });
  });
}

describe('hand-built files against the engines (the oracle for the test\'s own encoders)', () => {
  for (const file of syntheticFiles().filter((f) => f.engine)) {
    const { checker, server } = file.engine!;
    describeWithTool(checker)(`${file.name} (${checker})`, () => {
      test(`${checker} accepts it, and so does the verifier`, () => {
        const check = checkRdb(checker, file.bytes);
        expect({ ok: check.ok, output: check.ok ? '' : check.output }).toEqual({ ok: true, output: '' });
        expect(accepts(file.bytes)).toBe(true);
      });
    });
    if (file.engine!.load) {
      const cli = server === 'redis-server' ? 'redis-cli' : 'valkey-cli';
      describeWithTool(server)(`${file.name} (${server})`, () => {
        test(`${server} loads it with deep sanitization and reports the keys per database the builder wrote and the verifier counts`, async () => {
          // sanitize-dump-payload yes: the engine walks every ziplist / listpack / intset entry, as the verifier does.
          const loaded = await keyspaceAfterLoad(server, cli, file.bytes, ['--sanitize-dump-payload', 'yes']);
          expect(loaded).toEqual(file.databases);
          expect(verifyRdb(file.bytes).databases).toEqual(file.databases);
        }, 30_000);
      });
    }
  }
});
