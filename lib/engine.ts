import { Token } from 'aws-cdk-lib';

/**
 * The cache engine of a replication group.
 */
export enum EngineType {
  /** Valkey. */
  VALKEY = 'valkey',
  /** Redis OSS. */
  REDIS = 'redis',
}

/**
 * Known engine versions: the parameter group family and the newest RDB file format version the engine reads.
 *
 * RDB versions come from the engines' `rdb.h` (RDB_VERSION) at each release: Redis 6.x writes and reads 9, 7.0 reads 10,
 * 7.2 and Valkey 7.2-8.x read 11, Valkey 9.0 and 9.1 read 80. valkey-io/valkey `src/rdb.h` (RDB_VERSION_MAP: RDB 11 from
 * Valkey 7.2, 80 from 9.0, 81 from 9.2; "RDB 11 is the last open-source Redis RDB version, used by Valkey 7.x and 8.x";
 * 12-79 reserved as foreign). ElastiCache's Redis OSS 7.1 is its own build; whether it reads RDB 11 is not documented,
 * so it is marked uncertain and restore preflights warn instead of failing. The `valkey9` parameter group family
 * (Valkey 9.0 and 9.1) and Valkey 8.2 (`valkey8`) are ElastiCache's (see the project's elasticache-facts reference).
 */
interface KnownVersion {
  readonly family: string;
  readonly newestRdbVersion: number;
  readonly rdbVersionCertain: boolean;
}

const KNOWN_VERSIONS: Record<string, KnownVersion> = {
  'redis:5.0.6': { family: 'redis5.0', newestRdbVersion: 9, rdbVersionCertain: true },
  'redis:6.0': { family: 'redis6.x', newestRdbVersion: 9, rdbVersionCertain: true },
  'redis:6.2': { family: 'redis6.x', newestRdbVersion: 9, rdbVersionCertain: true },
  'redis:7.0': { family: 'redis7', newestRdbVersion: 10, rdbVersionCertain: true },
  'redis:7.1': { family: 'redis7', newestRdbVersion: 10, rdbVersionCertain: false },
  'valkey:7.2': { family: 'valkey7', newestRdbVersion: 11, rdbVersionCertain: true },
  'valkey:8.0': { family: 'valkey8', newestRdbVersion: 11, rdbVersionCertain: true },
  'valkey:8.1': { family: 'valkey8', newestRdbVersion: 11, rdbVersionCertain: true },
  'valkey:8.2': { family: 'valkey8', newestRdbVersion: 11, rdbVersionCertain: true },
  'valkey:9.0': { family: 'valkey9', newestRdbVersion: 80, rdbVersionCertain: true },
  'valkey:9.1': { family: 'valkey9', newestRdbVersion: 80, rdbVersionCertain: true },
};

const VERSION_PATTERN = /^(\d+)\.(\d+)(\.\d+)?$/;

/**
 * An ElastiCache engine (Valkey or Redis OSS) and its version.
 *
 * Knows its parameter group family and which `.rdb` files it can load.
 *
 * @example
 * const engine = CacheEngine.VALKEY_8_0;
 * const custom = CacheEngine.valkey('8.1');
 */
export class CacheEngine {
  /** Valkey 7.2. */
  public static readonly VALKEY_7_2 = CacheEngine.valkey('7.2');
  /** Valkey 8.0. */
  public static readonly VALKEY_8_0 = CacheEngine.valkey('8.0');
  /** Valkey 8.1. */
  public static readonly VALKEY_8_1 = CacheEngine.valkey('8.1');
  /** Valkey 8.2 (parameter group family `valkey8`). */
  public static readonly VALKEY_8_2 = CacheEngine.valkey('8.2');
  /** Valkey 9.0 (parameter group family `valkey9`; writes `.rdb` files with the `VALKEY080` header, which no Redis OSS reads). */
  public static readonly VALKEY_9_0 = CacheEngine.valkey('9.0');
  /** Valkey 9.1 (parameter group family `valkey9`; writes `.rdb` files with the `VALKEY080` header, which no Redis OSS reads). */
  public static readonly VALKEY_9_1 = CacheEngine.valkey('9.1');
  /** Redis OSS 6.2. */
  public static readonly REDIS_6_2 = CacheEngine.redis('6.2');
  /** Redis OSS 7.0. */
  public static readonly REDIS_7_0 = CacheEngine.redis('7.0');
  /** Redis OSS 7.1. */
  public static readonly REDIS_7_1 = CacheEngine.redis('7.1');

  /**
   * A Valkey version, for versions this library does not list yet.
   *
   * @param version the engine version, `major.minor` (for example `8.1`)
   */
  public static valkey(version: string): CacheEngine {
    return new CacheEngine(EngineType.VALKEY, version);
  }

  /**
   * A Redis OSS version, for versions this library does not list yet.
   *
   * @param version the engine version, `major.minor` (for example `7.1`)
   */
  public static redis(version: string): CacheEngine {
    return new CacheEngine(EngineType.REDIS, version);
  }

  /** The engine: `valkey` or `redis`. */
  public readonly engineType: EngineType;

  /** The engine version, as given to CloudFormation's `EngineVersion`. */
  public readonly engineVersion: string;

  /**
   * The parameter group family, for example `valkey8` or `redis7`.
   */
  public readonly parameterGroupFamily: string;

  /**
   * The newest RDB file format version this engine loads.
   *
   * @default - unknown for versions this library does not list
   */
  public readonly newestReadableRdbVersion?: number;

  /**
   * Whether `newestReadableRdbVersion` is documented for this exact ElastiCache build.
   *
   * When false, a restore whose `.rdb` is newer gets a warning instead of an error.
   */
  public readonly rdbCompatibilityCertain: boolean;

  private constructor(engineType: EngineType, version: string) {
    if (!Token.isUnresolved(version) && !VERSION_PATTERN.test(version)) {
      throw new Error(`CacheEngine: engine version must look like 'major.minor' (for example '8.0'), got '${version}'`);
    }
    this.engineType = engineType;
    this.engineVersion = version;
    const known = KNOWN_VERSIONS[`${engineType}:${version}`];
    this.parameterGroupFamily = known?.family ?? deriveFamily(engineType, version);
    this.newestReadableRdbVersion = known?.newestRdbVersion;
    this.rdbCompatibilityCertain = known?.rdbVersionCertain ?? false;
  }

  /** The major version number, for example 8 for `8.0`. */
  public get majorVersion(): number {
    return Number(this.engineVersion.split('.')[0]);
  }

  /** A readable name, for example `valkey 8.0`. */
  public toString(): string {
    return `${this.engineType} ${this.engineVersion}`;
  }
}

function deriveFamily(engineType: EngineType, version: string): string {
  if (Token.isUnresolved(version)) {
    throw new Error('CacheEngine: the engine version cannot be a deploy-time value: the parameter group family is chosen from it at synth time');
  }
  const major = Number(VERSION_PATTERN.exec(version)![1]);
  if (engineType === EngineType.VALKEY) {
    return `valkey${major}`;
  }
  if (major >= 7) {
    return 'redis7';
  }
  if (major === 6) {
    return 'redis6.x';
  }
  return `redis${version.split('.').slice(0, 2).join('.')}`;
}
