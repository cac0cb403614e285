/**
 * Runs a simulation outside jest's `vm` sandbox, in a child process (benchmarks/simulator/worker.ts under ts-node,
 * transpile only): the same code runs about 7 times faster there (see worker.ts for why). One child per test file,
 * reused for every simulation of the file; `stopSimulator` ends it (call it in `afterAll`).
 *
 * Under Stryker (its instrumented code defines `__stryker__`), or with SIM_IN_PROCESS=1, simulations run in this
 * process instead: a mutant is switched on in this process only, and Stryker's per-test coverage must see the code run.
 */
import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { simulate, SimulationOptions, SimulationReport } from '../../benchmarks/simulator';

let child: ChildProcess | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (r: SimulationReport) => void; reject: (e: Error) => void }>();

function inProcess(): boolean {
  return process.env.SIM_IN_PROCESS === '1' || (globalThis as { __stryker__?: unknown }).__stryker__ !== undefined;
}

function worker(): ChildProcess {
  if (child) {
    return child;
  }
  const root = path.join(__dirname, '..', '..');
  const c = fork(path.join(root, 'benchmarks', 'simulator', 'worker.ts'), [], {
    cwd: root,
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'benchmarks', 'tsconfig.json') },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  c.on('message', (m: { id: number; report?: SimulationReport; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) {
      w?.reject(new Error(`simulation failed in the worker: ${m.error}`));
    } else {
      w?.resolve(m.report!);
    }
  });
  c.on('exit', (code) => {
    for (const w of waiting.values()) {
      w.reject(new Error(`simulation worker exited (code ${code})`));
    }
    waiting.clear();
    child = undefined;
  });
  child = c;
  return c;
}

/** `simulate(options)`, in the child process (options must be plain data: no `wrapIo`, no `trace`). */
export function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  if (inProcess()) {
    return simulate(options);
  }
  if (options.wrapIo || options.trace) {
    throw new Error('runSimulation: wrapIo and trace are functions and cannot cross to the worker; use simulate() or a named breakage');
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker().send({ id, options });
  });
}

/** Ends the child process (call in `afterAll`). */
export function stopSimulator(): void {
  child?.kill();
  child = undefined;
}
