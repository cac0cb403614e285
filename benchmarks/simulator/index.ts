/**
 * A simulated ElastiCache + versioned S3 export bucket + cross-region replica + verifier Lambda, driven minute by minute,
 * with the real reconciler (`reconcileGroup`: planner + executor) running against it through a simulated `ReconcileIo`,
 * and an independent safety oracle judging its effects from the world's truth.
 *
 * - world.ts: the service, the buckets, replication, events, and the adversary's object faults;
 * - bucket.ts: a versioned bucket whose objects know what data they hold;
 * - io.ts: the reconciler's view (ReconcileIo), throttling and crashes;
 * - oracle.ts: unsafe deletions, false commits, quota violations, unexported plan backups;
 * - driver.ts: the clock, the runs, the DR RPO and the fault-aware bound;
 * - options.ts, scenarios.ts, report.ts: switches, named scenarios, Markdown.
 *
 * Used by test/backup-plan/simulation.test.ts (assertions) and benchmarks/simulation.ts (the results tables).
 */
export * from './options';
export * from './report';
export * from './scenarios';
export { simulate, Simulation } from './driver';
export { rng } from './rng';
export type { SimIo } from './io';
export { PLAN_ID, SECOND_PLAN_ID } from './world';
export { applyMutant } from './mutants';
