/**
 * Runs simulations in a child process (test/backup-plan/simulation-runner.ts forks it with ts-node, transpile only).
 *
 * Why: under jest the simulation runs inside a `vm` context, where every access to a global (`Math`, `Date`, `JSON`,
 * `Array`, `parseInt`, ...) goes through the context's interceptors and is not inline-cached; the simulation makes
 * tens of millions of them (hashing simulated object contents, naming, parsing the state each run), so it runs about 7
 * times slower than under plain Node. Here it runs under plain Node. Messages: `{ id, options }` in, `{ id, report }`
 * or `{ id, error }` out (structured clone: the report's infinities survive).
 */
import { simulate } from './driver';
import { SimulationOptions } from './options';

interface Request { readonly id: number; readonly options: SimulationOptions }

process.on('message', (message: Request) => {
  simulate(message.options).then(
    (report) => process.send?.({ id: message.id, report }),
    (error: Error) => process.send?.({ id: message.id, error: error.stack ?? String(error) }),
  );
});
