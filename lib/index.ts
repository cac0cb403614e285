export * from './engine';
export * from './replication-group/replication-group';
