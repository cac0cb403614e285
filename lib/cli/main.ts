/**
 * Entry point of the `cdk-elasticache-backup` command (npm `bin`: `bin/cdk-elasticache-backup` loads the compiled
 * `build/cli/main.js`). Dispatches to the commands; today there is one, `verify`.
 */
import { openTarget } from './sources';
import { ExitCode, runVerifyCommand, usage as verifyUsage, VerifyIo } from './verify-command';

function usage(): string {
  return [
    'Usage: cdk-elasticache-backup <command> [arguments]',
    '',
    'Commands:',
    '  verify <file.rdb | s3://bucket/key | -> ...   prove that RDB files (ElastiCache exports, dumps) are intact',
    '',
    'Run `cdk-elasticache-backup verify --help` for the options of a command.',
  ].join('\n');
}

/** The real world: local files, S3, a monotonic clock, standard output. */
export function processIo(): VerifyIo {
  return {
    open: openTarget,
    now: () => performance.now(),
    print: (line) => { process.stdout.write(`${line}\n`); },
  };
}

/** Runs the command line `argv` (without `node` and the script); returns the exit code. */
export async function main(argv: readonly string[], io: VerifyIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return runVerifyCommand(rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.print(usage());
      return command === undefined ? ExitCode.USAGE : ExitCode.INTACT;
    default:
      io.print(`cdk-elasticache-backup: unknown command '${command}'; the only command is 'verify'\n`);
      io.print(usage());
      io.print('');
      io.print(verifyUsage());
      return ExitCode.USAGE;
  }
}
