export * from './engine';
export * from './replication-group/backup';
export * from './replication-group/parameter-group';
export * from './replication-group/replication-group';
export * from './storage/export-bucket';
export * from './storage/replica-bucket';
export * from './restore/backup-source';
export * from './restore/replication-group-from-backup';
