import { awscdk, DependencyType, javascript, JsonFile } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-elasticache-backup',
  description: 'Backup and disaster recovery for Amazon ElastiCache (Valkey / Redis OSS): backup-ready replication groups, '
    + 'export to S3, cross-region replication, scheduled backups with RPO alarms, and restore from .rdb files.',
  author: 'cdk-elasticache-backup developers',
  authorAddress: 'maintainers@users.noreply.r-seed-5576bd83.example',
  repositoryUrl: 'https://github.com/cdk-elasticache-backup/cdk-elasticache-backup.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'aws-cdk', 'elasticache', 'redis', 'valkey', 'backup', 'disaster-recovery', 's3'],
  stability: 'experimental',

  cdkVersion: '2.276.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  // Development pins aws-cdk-lib and constructs explicitly (below); the peer floor is lower than the dev version.
  peerDependencyOptions: { pinnedDevDependency: false },
  projenrcTs: true,

  // Layout that jsii, jest and the npm tarball agree on (see the team's toolchain notes).
  srcdir: 'lib',
  libdir: 'build',
  testdir: 'test',
  entrypoint: 'build/index.js',
  entrypointTypes: 'build/index.d.ts',
  // The operator's command (`npx cdk-elasticache-backup verify ...`): a JS shim that loads build/cli/main.js.
  bin: { 'cdk-elasticache-backup': 'bin/cdk-elasticache-backup' },

  publishToPypi: { distName: 'cdk-elasticache-backup', module: 'cdk_elasticache_backup' },
  publishToMaven: {
    javaPackage: 'io.github.cdkelasticachebackup',
    mavenGroupId: 'io.github.cdk-elasticache-backup',
    mavenArtifactId: 'cdk-elasticache-backup',
  },
  publishToNuget: { dotNetNamespace: 'CdkElastiCacheBackup', packageId: 'CdkElastiCacheBackup' },
  publishToGo: { moduleName: 'github.com/cdk-elasticache-backup/cdk-elasticache-backup-go' },

  // Handlers are bundled by esbuild; the Lambda Node.js runtime provides AWS SDK v3.
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    bundlingOptions: { externals: ['@aws-sdk/*'], sourcemap: false },
  },

  devDeps: [
    'aws-cdk@^2',
    'cdk-nag@^3',
    'fast-check@^4',
    'aws-sdk-client-mock@^4',
    '@aws-sdk/client-elasticache@^3',
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/client-cloudwatch@^3',
    // The self-test invokes the reconciler; the service probe assumes roles and reads SQS queues. The Lambda Node.js
    // runtime provides all three; they are needed here for types and mocks.
    '@aws-sdk/client-lambda@^3',
    '@aws-sdk/client-sts@^3',
    '@aws-sdk/client-sqs@^3',
    '@aws-lambda-powertools/logger@^2',
    '@aws-lambda-powertools/metrics@^2',
    '@types/aws-lambda@^8',
    // Bundled into the restore drill's keyspace verifier Lambda (TLS + AUTH to Redis OSS / Valkey).
    'ioredis@^6',
    // Runs the restore drill's rendered state machine locally against mocked SDK calls.
    'aws-local-stepfunctions',
    '@aws-sdk/client-sfn@^3',
    '@aws-sdk/client-secrets-manager@^3',
    // Mutation testing of lib/backup-plan (a benchmark task, not CI).
    '@stryker-mutator/core',
    '@stryker-mutator/jest-runner',
    '@stryker-mutator/typescript-checker',
  ],

  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      // The suite's time budget goes to the tests: coverage is for `npx jest --coverage` on a developer's machine.
      collectCoverage: false,
      testTimeout: 120_000,
      testPathIgnorePatterns: ['/node_modules/', '\\.integ\\.snapshot/'],
    },
  },
  tsconfigDev: { include: ['../examples/**/*.ts', '../benchmarks/**/*.ts'] },
  eslintOptions: { dirs: ['lib'], devdirs: ['test', 'examples', 'benchmarks', 'projenrc', '.projenrc.ts'] },

  gitignore: ['cdk.out/', '/.tmp/', '.jsii.tabl.json', '.stryker-tmp*/', '/reports/'],
  githubOptions: { mergify: false },
});

// The peer floor is the lowest aws-cdk-lib the library needs: `Validations` (2.257.0) and acknowledgement ids with
// brackets and `::` (2.269.0). Development and the test suite use cdkVersion (newest); test/package proves the floor by
// installing the packed tarball with aws-cdk-lib at exactly this version.
const AWS_CDK_LIB_FLOOR = '2.269.0';
project.deps.removeDependency('aws-cdk-lib', DependencyType.PEER);
project.deps.addDependency(`aws-cdk-lib@^${AWS_CDK_LIB_FLOOR}`, DependencyType.PEER);
project.deps.removeDependency('aws-cdk-lib', DependencyType.BUILD);
project.deps.addDependency('aws-cdk-lib@2.276.0', DependencyType.BUILD);
project.deps.addDependency('constructs@10.5.1', DependencyType.BUILD);

for (const pattern of ['/examples/', '/benchmarks/', '/scripts/', '/.ci/', 'BENCHMARKS.md', '/cdk.json', '/cdk.out/', '/.tmp/', '/docs/']) {
  project.addPackageIgnore(pattern);
}

// RDB fixtures are binary: never let `text=auto eol=lf` rewrite a byte of them.
project.gitattributes.addAttributes('*.rdb', 'binary');

// unrs-resolver 1.13 has no lockfile entries for other platforms, which breaks `npm ci` on a clean clone.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// A root cdk.json: the example app is the default CDK app. (The integ app turns stack traces off itself, so its
// snapshot holds no paths of the machine that recorded it.)
new JsonFile(project, 'cdk.json', {
  obj: {
    app: 'npx ts-node -P test/tsconfig.json --prefer-ts-exts examples/dr-app.ts',
    output: 'cdk.out',
  },
});

// examples/ and benchmarks/ are type-checked and linted like tests (eslint's project service needs a tsconfig next to them).
for (const dir of ['examples', 'benchmarks']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', noEmit: true },
      include: ['**/*.ts', '../lib/**/*.ts', '../test/**/*.ts'],
    },
  });
}

// Handlers must be bundled before any test or synth touches their assets.
const bundle = project.tasks.tryFind('bundle');
if (bundle) {
  project.testTask.prependSpawn(bundle);
}

// The main job: synthesize the example disaster-recovery app into cdk.out/ and print a summary.
const example = project.addTask('example', {
  description: 'Synthesize the example disaster-recovery app (primary + DR region) into cdk.out/ and summarize it',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
});
if (bundle) {
  example.spawn(bundle);
}
example.exec('cdk synth --quiet --no-notices --no-version-reporting -o cdk.out');
example.exec('ts-node -P test/tsconfig.json examples/summarize.ts cdk.out');

// The README's picture of the example's dashboard, drawn from the synthesized dashboard body.
const picture = project.addTask('dashboard-picture', {
  description: 'Redraw the README\'s picture of the example dashboard from a fresh synth of the example app',
});
if (bundle) {
  picture.spawn(bundle);
}
picture.exec('cdk synth --quiet --no-notices --no-version-reporting -o cdk.out');
picture.exec('ts-node -P test/tsconfig.json examples/dashboard-picture.ts cdk.out CacheBackupPrimary --readme README.md');

// Benchmarks: measurements for BENCHMARKS.md, never run as tests.
const benchmark = project.addTask('benchmark', {
  description: 'Run the benchmarks in benchmarks/ and rewrite benchmarks/results/ and BENCHMARKS.md',
});
if (bundle) {
  benchmark.spawn(bundle);
}
// The simulation prints its report; the other benchmarks write their own result file.
benchmark.exec('ts-node -P benchmarks/tsconfig.json benchmarks/simulation.ts > benchmarks/results/simulation.md');
for (const name of ['synth', 'preflight', 'bundles', 'rdb-verify']) {
  benchmark.exec(`ts-node -P benchmarks/tsconfig.json benchmarks/${name}.ts`);
}
benchmark.exec('ts-node -P benchmarks/tsconfig.json benchmarks/report.ts');

// Mutation testing of lib/backup-plan's pure logic with Stryker (hours on 2 cores): never part of the test suite.
const mutation = project.addTask('mutation', {
  description: 'Stryker mutation testing of lib/backup-plan (fast tests + simulation); writes benchmarks/results/mutation.md',
});
mutation.exec('ts-node -P benchmarks/tsconfig.json benchmarks/mutation.ts');
mutation.exec('ts-node -P benchmarks/tsconfig.json benchmarks/report.ts');

project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

// Handler bundles are minified (at most 100 KB each, see BENCHMARKS.md). Names are not kept: every error class the
// handlers report or catch by name sets `name` itself. projen's lambda bundling options have no minify switch, so the
// generated esbuild command of every handler bundle gets the flag.
for (const task of project.tasks.all) {
  const args = task.steps[0]?.execArgs;
  if (task.name.startsWith('bundle:') && !task.name.endsWith(':watch') && args?.[0] === 'esbuild') {
    task.reset(undefined);
    task.exec([...args, '--minify'].map((arg) => (arg.includes('*') ? `'${arg}'` : arg)).join(' '));
  }
}

project.synth();
