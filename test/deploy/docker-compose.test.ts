/**
 * Static checks of docker-compose.yml, Dockerfile and .dockerignore (no Docker engine needed):
 * the services are wired to each other consistently, and the app's environment is one that
 * SnapStore's own config loader accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Healthcheck {
  test: string | string[];
  interval?: string;
  retries?: number;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  healthcheck?: Healthcheck;
  depends_on?: string[] | Record<string, { condition?: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as ComposeFile;
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};

/** A service's environment as strings, from either the map or the KEY=VALUE list form. */
function envOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

/** Published "host:container" pairs of a service, normalised to strings. */
function portsOf(name: string): string[] {
  return (service(name).ports ?? []).map((p) =>
    typeof p === 'object' ? `${p.published ?? ''}:${p.target}` : String(p).replace(/^(0\.0\.0\.0|127\.0\.0\.1):/, ''),
  );
}

/** The script a one-shot service runs, however command/entrypoint are spelled. */
function scriptOf(name: string): string {
  const s = service(name);
  const parts = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return [...parts(s.entrypoint), ...parts(s.command)].join('\n');
}

/** The app's environment as SnapStore sees it: AWS_* are for the SDK's credential chain. */
const appEnv = envOf('app');
const snapstoreEnv = Object.fromEntries(Object.entries(appEnv).filter(([k]) => !k.startsWith('AWS_')));
/** Variables the app service may set that SnapStore itself does not read. */
const NOT_SNAPSTORE = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'NODE_ENV']);

// ------------------------------------------------------------------ Dockerfile

interface Instruction {
  stage: number;
  keyword: string;
  args: string;
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined, stages counted. */
function dockerfileInstructions(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') && current === '') continue;
    if (line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  let stage = -1;
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage += 1;
    return { stage, keyword: upper, args: rest.join(' ') };
  });
}

const dockerfile = dockerfileInstructions(read('Dockerfile'));
const finalStage = Math.max(...dockerfile.map((i) => i.stage));
const inFinal = (keyword: string) => dockerfile.filter((i) => i.stage === finalStage && i.keyword === keyword);

describe('docker-compose.yml', () => {
  it('has the services app, mysql, minio and minio-setup', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['app', 'mysql', 'minio', 'minio-setup']));
  });

  it('builds the app from the top-level Dockerfile and publishes it on 3000', () => {
    const build = service('app').build;
    const context = typeof build === 'string' ? build : build?.context;
    expect(context).toBe('.');
    expect(typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile').toBe('Dockerfile');
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
    expect(portsOf('app')).toContain('3000:3000');
    // The container listens where it is published.
    expect(appEnv.PORT ?? '3000').toBe('3000');
    expect(appEnv.HOST ?? '0.0.0.0').toBe('0.0.0.0');
  });

  it('runs MySQL 8.4 with utf8mb4 server defaults on a named volume', () => {
    const mysql = service('mysql');
    expect(mysql.image).toBe('mysql:8.4');
    const command = ([] as string[]).concat(mysql.command ?? []).join(' ');
    expect(command).toContain('--character-set-server=utf8mb4');
    expect(command).toMatch(/--collation-server=utf8mb4_\w+/);
    expect(volumeTargets('mysql')).toContain('/var/lib/mysql');
  });

  it('runs MinIO with its API published on 9000 and its data on a named volume', () => {
    expect(service('minio').image).toMatch(/(^|\/)minio\/minio(:|$)/);
    expect(portsOf('minio')).toContain('9000:9000');
    const command = ([] as string[]).concat(service('minio').command ?? []).join(' ');
    expect(command).toMatch(/^server \/data\b/);
    expect(volumeTargets('minio')).toContain('/data');
  });

  it('gives mysql and minio healthchecks (mysqladmin ping, MinIO readiness)', () => {
    const test = (name: string) => ([] as string[]).concat(service(name).healthcheck?.test ?? []).join(' ');
    expect(test('mysql')).toMatch(/^CMD(-SHELL)? .*mysqladmin ping/);
    // Over TCP: during first-start initialisation MySQL only listens on its socket.
    expect(test('mysql')).toMatch(/-h\s*127\.0\.0\.1/);
    expect(test('minio')).toMatch(/^CMD(-SHELL)? .*(mc ready local|\/minio\/health\/(live|ready))/);
  });

  it('starts the app only after mysql and minio are healthy and the bucket exists', () => {
    expect(service('app').depends_on).toEqual({
      mysql: { condition: 'service_healthy' },
      minio: { condition: 'service_healthy' },
      'minio-setup': { condition: 'service_completed_successfully' },
    });
    expect(service('minio-setup').depends_on).toEqual({ minio: { condition: 'service_healthy' } });
  });

  it("gives the app's environment to loadConfig without a complaint: MySQL and S3 (MinIO), no ACLs", () => {
    const config = loadConfig(snapstoreEnv, '/app');
    expect(config.database).toMatchObject({ driver: 'mysql', url: appEnv.DATABASE_URL, tls: 'off' });
    expect(config.storage).toMatchObject({
      driver: 's3',
      bucket: appEnv.S3_BUCKET,
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      acl: 'none',
      publicBaseUrl: `http://localhost:9000/${appEnv.S3_BUCKET}`,
    });
    expect(config.port).toBe(3000);
  });

  it('sets no variable that SnapStore does not read (a typo would be silently ignored)', () => {
    const baseline = loadConfig(snapstoreEnv, '/app');
    for (const name of Object.keys(appEnv)) {
      if (NOT_SNAPSTORE.has(name)) continue;
      // A variable SnapStore reads either rejects a bogus value or changes the configuration.
      const bogus = { ...snapstoreEnv, [name]: 'bogus value ☃' };
      let read: boolean;
      try {
        read = JSON.stringify(loadConfig(bogus, '/app')) !== JSON.stringify(baseline);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        read = (error as ConfigError).problems.some((p) => p.startsWith(`${name}:`));
      }
      expect(read, `${name} is not a SnapStore variable`).toBe(true);
    }
  });

  it("connects to the mysql service's database, as its user", () => {
    const url = new URL(appEnv.DATABASE_URL!);
    const mysql = envOf('mysql');
    expect(url.protocol).toBe('mysql:');
    expect(url.hostname).toBe('mysql');
    expect(url.port || '3306').toBe('3306');
    expect(decodeURIComponent(url.username)).toBe(mysql.MYSQL_USER);
    expect(decodeURIComponent(url.password)).toBe(mysql.MYSQL_PASSWORD);
    expect(url.pathname.slice(1)).toBe(mysql.MYSQL_DATABASE);
    expect(mysql.MYSQL_ROOT_PASSWORD ?? mysql.MYSQL_RANDOM_ROOT_PASSWORD).toBeTruthy();
  });

  it("uses MinIO's root credentials for the SDK and for minio-setup", () => {
    const minio = envOf('minio');
    expect(minio.MINIO_ROOT_USER).toBeTruthy();
    expect(minio.MINIO_ROOT_PASSWORD!.length).toBeGreaterThanOrEqual(8); // MinIO refuses shorter ones
    expect(appEnv.AWS_ACCESS_KEY_ID).toBe(minio.MINIO_ROOT_USER);
    expect(appEnv.AWS_SECRET_ACCESS_KEY).toBe(minio.MINIO_ROOT_PASSWORD);
    // minio-setup logs in with the same credentials, from its environment.
    const setup = envOf('minio-setup');
    expect(setup.MINIO_ROOT_USER).toBe(minio.MINIO_ROOT_USER);
    expect(setup.MINIO_ROOT_PASSWORD).toBe(minio.MINIO_ROOT_PASSWORD);
    expect(scriptOf('minio-setup')).toMatch(/mc alias set \S+ \S+ "?\$\$MINIO_ROOT_USER"? "?\$\$MINIO_ROOT_PASSWORD"?/);
  });

  it('minio-setup creates the bucket the app uses and makes it anonymously downloadable', () => {
    expect(service('minio-setup').image).toMatch(/(^|\/)minio\/mc(:|$)/);
    const script = scriptOf('minio-setup');
    const alias = /mc alias set (\S+) (\S+)/.exec(script);
    expect(alias, 'mc alias set ALIAS URL USER PASSWORD').not.toBeNull();
    const [, name, url] = alias!;
    expect(url).toBe(appEnv.S3_ENDPOINT);
    const bucket = appEnv.S3_BUCKET!;
    expect(script).toMatch(new RegExp(`mc mb (--ignore-existing|-p) ${name}/${bucket}(\\s|$)`));
    expect(script).toMatch(new RegExp(`mc anonymous set download ${name}/${bucket}(\\s|$)`));
    // MinIO ignores object ACLs: the bucket policy above is what makes images public.
    expect(appEnv.S3_ACL).toBe('none');
    expect(script).toMatch(/^set -e$/m);
  });

  it('publishes image URLs on the host port MinIO is published on', () => {
    const base = new URL(appEnv.S3_PUBLIC_BASE_URL!);
    const minioPort = new URL(appEnv.S3_ENDPOINT!).port;
    expect(base.hostname).toBe('localhost');
    expect(portsOf('minio')).toContain(`${base.port}:${minioPort}`);
  });

  it('keeps uploads on a named volume mounted at UPLOAD_DIR', () => {
    const uploads = (service('app').volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]))
      .find(([, target]) => target === (appEnv.UPLOAD_DIR ?? '/app/uploads'));
    expect(uploads, 'a volume at UPLOAD_DIR').toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(uploads![0]);
    expect(appEnv.UPLOAD_DIR).toMatch(/^\//);
  });
});

function volumeTargets(name: string): string[] {
  return (service(name).volumes ?? []).map((v) => (typeof v === 'string' ? (v.split(':')[1] ?? v) : v.target));
}

describe('Dockerfile', () => {
  it('runs the app with the environment deploy/snapstore.service gives it (NODE_ENV, MALLOC_ARENA_MAX, NODE_OPTIONS)', () => {
    const service = Object.fromEntries(
      [...read('deploy/snapstore.service').matchAll(/^Environment=(\w+)=(.*)$/gm)].map(([, k, v]) => [k, v]),
    );
    expect(service).toMatchObject({
      NODE_ENV: 'production',
      MALLOC_ARENA_MAX: '2',
      NODE_OPTIONS: '--max-semi-space-size=4',
    });
    const image = Object.fromEntries(
      inFinal('ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map(([, k, v]) => [k, v])),
    );
    for (const [name, value] of Object.entries(service)) expect(image[name], name).toBe(value);
  });

  it('is multi-stage on node:20-bookworm-slim', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toBe('node:20-bookworm-slim');
  });

  it('builds with npm ci, npm run build, npm prune --omit=dev', () => {
    const runs = dockerfile
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((step) => runs.indexOf(step));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('gives the build stage every tsconfig the build script uses, and ships what each one emits', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const projects = [...pkg.scripts.build!.matchAll(/\btsc\b[^&|;]*?-p\s+(\S+)/g)].map((m) => m[1]!);
    expect(projects.length).toBeGreaterThan(0);
    const buildStage = dockerfile.find((i) => i.keyword === 'RUN' && i.args.includes('npm run build'))!.stage;
    const copiedIntoBuild = dockerfile
      .filter((i) => i.stage === buildStage && i.keyword === 'COPY')
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    const globToRegExp = (glob: string) =>
      new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    const shipped = inFinal('COPY')
      .filter((i) => i.args.startsWith('--from='))
      .map((i) =>
        i.args
          .split(/\s+/)[1]!
          .replace(/^\/app\//, '')
          .replace(/\/$/, ''),
      );
    for (const project of projects) {
      expect(
        copiedIntoBuild.some((source) => globToRegExp(source).test(project)),
        `COPY ${project}`,
      ).toBe(true);
      const outDir = tsconfigOutDir(project);
      expect(outDir, `${project} has an outDir`).toBeDefined();
      expect(
        shipped.some((dir) => outDir === dir || outDir!.startsWith(`${dir}/`)),
        `the final stage copies ${outDir} (emitted by ${project}) from the build stage`,
      ).toBe(true);
    }
  });

  it('ships dist, production node_modules, views and public in the final stage', () => {
    const copied = inFinal('COPY').map((i) => i.args);
    for (const what of ['dist', 'node_modules', 'views', 'public', 'package.json']) {
      expect(copied.some((args) => args.includes(what))).toBe(true);
    }
  });

  it('runs as a non-root user', () => {
    const user = inFinal('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it('has a HEALTHCHECK on /healthz through node fetch', () => {
    const check = inFinal('HEALTHCHECK').at(-1)?.args ?? '';
    expect(check).toMatch(/CMD/);
    expect(check).toContain('fetch(');
    expect(check).toContain('/healthz');
  });

  it("starts dist/main.js the way package.json's start script does", () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const cmd = JSON.parse(inFinal('CMD').at(-1)?.args ?? 'null') as string[] | null;
    expect(Array.isArray(cmd), 'CMD in exec (JSON) form, so node gets SIGTERM').toBe(true);
    expect(pkg.scripts.start).toMatch(/\bdist\/main\.js$/);
    expect(cmd!.join(' ')).toBe(pkg.scripts.start);
    expect(inFinal('EXPOSE').map((i) => i.args)).toContain('3000');
  });
});

/** compilerOptions.outDir of a tsconfig, following `extends` within the repo. */
function tsconfigOutDir(file: string): string | undefined {
  const config = JSON.parse(read(file)) as { extends?: string; compilerOptions?: { outDir?: string } };
  const outDir = config.compilerOptions?.outDir;
  if (outDir) return path.posix.normalize(outDir).replace(/^\.\//, '').replace(/\/$/, '');
  return config.extends?.startsWith('.') ? tsconfigOutDir(config.extends) : undefined;
}

describe('.dockerignore', () => {
  it('keeps local state and secrets out of the build context', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'dist', '.git', '.env', 'uploads', 'data']) expect(patterns).toContain(p);
    // ...but not what the build needs.
    for (const p of ['src', 'views', 'public', 'package.json', 'package-lock.json']) expect(patterns).not.toContain(p);
  });
});
