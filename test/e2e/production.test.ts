/**
 * Production as a user runs it: `npm run build`, then the compiled platform from dist/ with plain
 * Node (what `npm run start:prod` runs) answers the four-subgraph query of docs/clients.md; and Ctrl-C, on the
 * compiled platform and on `npm start` from source, stops every process fast, each logging `stopped`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { builtinModules } from 'node:module';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL } from '../support/graphql';
import { freePort } from '../support/ports';
import { platformToken } from '../support/identity';
import { fencedBlocks, readDoc, shellBlockAfter } from '../support/markdown';

const ROOT = path.resolve(__dirname, '..', '..');
const FOUR_SUBGRAPHS = `{ user(id: "u1") { name orders { total status items { quantity product { name inStock } } payment { state } } } }`;
const EVERY_PROCESS = ['users', 'catalog', 'orders', 'payments', 'sagas', 'gateway', 'web-bff', 'mobile-bff', 'launcher'];
/** Generous for a shared 2-core machine; nothing is in flight, so a stop takes a few hundred ms. */
const CTRL_C_BOUND_MS = 2000;

const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The services whose JSON log lines (prefixed `name | ` by the launcher, or its own) say `msg`. */
function servicesThatLogged(output: string, msg: string): string[] {
  const services = new Set<string>();
  for (const line of output.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const entry = JSON.parse(line.slice(start)) as { msg?: string; service?: string };
      if (entry.msg === msg && entry.service) services.add(entry.service);
    } catch {
      // not a log line
    }
  }
  return [...services].sort();
}

/** The `Keep-Alive` response header a load balancer sees on a reused connection (it carries keepAliveTimeout). */
function keepAliveHeader(url: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve(res.headers['keep-alive'] as string | undefined);
    }).on('error', reject);
  });
}

/** Every package a compiled file requires by name (`@scope/name` or `name`, subpaths dropped). */
function packagesRequiredBy(folder: string): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))) {
    // tsc writes its imports as require("x"); a require written in the source keeps its own quotes.
    for (const [, , specifier] of readFileSync(path.join(folder, file), 'utf8').matchAll(/require\((["'])([^"'.][^"']*)\1\)/g)) {
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      const parts = specifier.split('/');
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return names;
}

describe('production build (npm run build, npm run start:prod)', () => {
  beforeAll(() => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  });

  it('emits every file the compiled code reads, and needs no devDependency (tsx included) at run time', () => {
    expect(readFileSync(path.join(ROOT, 'dist/bff/mobile/persisted-operations.json'), 'utf8')).toBe(
      readFileSync(path.join(ROOT, 'bff/mobile/persisted-operations.json'), 'utf8'),
    );
    // The console's browser code, bundled at build time, so production serves it without a bundler.
    expect(readFileSync(path.join(ROOT, 'dist/gateway/console/web/bundle/console.js'), 'utf8')).toContain('/admin/console.json');
    const required = [...packagesRequiredBy(path.join(ROOT, 'dist'))];
    expect(required).toContain('@apollo/gateway'); // the scan sees the compiled requires
    expect(required.filter((name) => !(name in packageJson.dependencies))).toEqual([]);
    // The kit, built on its own into shared/dist, requires exactly the packages its package.json declares
    // (beside the type packages its declarations need in a project that installs it).
    const kit = JSON.parse(readFileSync(path.join(ROOT, 'shared/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(required).toContain('@trellis/kit');
    const kitPackages = Object.keys(kit.dependencies).filter((name) => !name.startsWith('@types/'));
    expect([...packagesRequiredBy(path.join(ROOT, 'shared/dist'))].sort()).toEqual(kitPackages.sort());
    expect(packageJson.devDependencies.tsx).toBeDefined();
    expect(packageJson.dependencies.tsx).toBeUndefined();
    expect(packageJson.scripts['start:prod']).toBe('scripts/runtime/node24 node dist/scripts/start.js');
  });

  it("refuses to start unsafe exactly as docs/operators.md shows, running its command as written", () => {
    const doc = readDoc('docs/operators.md');
    const block = shellBlockAfter(doc, 'names every problem, the variable that fixes it');
    const shown = fencedBlocks(doc).find((candidate) => candidate.line > block.line)!;
    const refused = spawnSync('bash', ['-c', block.body], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim()).toBe(shown.body.trim());
  });

  it('runs from dist/ and production dependencies alone (the image\'s runtime stage), and stops on SIGTERM logging "stopped"', async () => {
    const app = mkdtempSync(path.join(tmpdir(), 'trellis-runtime-'));
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(ROOT, file), path.join(app, file));
    cpSync(path.join(ROOT, 'dist'), path.join(app, 'dist'), { recursive: true });
    // The kit, the workspace package the compiled code requires: its manifest and build, as the image copies them.
    mkdirSync(path.join(app, 'shared'));
    copyFileSync(path.join(ROOT, 'shared/package.json'), path.join(app, 'shared/package.json'));
    cpSync(path.join(ROOT, 'shared/dist'), path.join(app, 'shared/dist'), { recursive: true });
    const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, encoding: 'utf8' });
    expect(install.status).toBe(0);
    expect(existsSync(path.join(app, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules/typescript'))).toBe(false);

    const port = await freePort();
    const child = spawn(process.execPath, ['dist/scripts/service.js', 'mobile-bff'], {
      cwd: app,
      // The state store in memory: production refuses it unless told (test/e2e/productionRefusal.test.ts).
      env: { PATH: process.env.PATH, NODE_ENV: 'production', TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'true', PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The mobile BFF reads its persisted operations from dist/ at start; ready means it found them.
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200), 30_000, 200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(servicesThatLogged(output, 'stopped')).toEqual(['mobile-bff']);

    // The web BFF serves the storefront bundled by the build, with no bundler installed.
    expect(existsSync(path.join(app, 'node_modules/esbuild'))).toBe(false);
    const webPort = await freePort();
    const web = spawn(process.execPath, ['dist/scripts/service.js', 'web-bff'], {
      cwd: app,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'true', PORT: String(webPort), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const webExited = new Promise<number | null>((resolve) => web.once('exit', (code) => resolve(code)));
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${webPort}/health/ready`)).status).toBe(200), 30_000, 200);
      const page = await fetch(`http://127.0.0.1:${webPort}/`);
      expect([page.status, page.headers.get('content-security-policy')]).toEqual([200, expect.stringContaining("script-src 'self'")]);
      expect(await page.text()).toContain('<script type="module" src="/assets/storefront.js">');
      const script = await fetch(`http://127.0.0.1:${webPort}/assets/storefront.js`);
      expect(script.status).toBe(200);
      expect(await script.text()).toBe(readFileSync(path.join(ROOT, 'dist/bff/web/storefront/built/storefront.js'), 'utf8'));
    } finally {
      web.kill('SIGTERM');
    }
    expect(await webExited).toBe(0);
  });

  it('runs any service from one entry (the image\'s), reading trellis.config under the environment, and prints it masked', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'trellis-prod-'));
    writeFileSync(path.join(cwd, 'trellis.config.yaml'), 'MAX_COST: 3000\nMAX_ALIASES: 5\nREDIS_URL: redis://app:s3cret@redis:6379\n');
    const env = { PATH: process.env.PATH, MAX_ALIASES: '9' };
    const printed = spawnSync(process.execPath, [path.join(ROOT, 'dist/scripts/service.js'), 'gateway', '--print-config'], { cwd, env, encoding: 'utf8' });
    expect(printed.status).toBe(0);
    const config = JSON.parse(printed.stdout);
    expect(config.limits).toMatchObject({ maxCost: 3000, maxAliases: 9 });
    expect(config.backends.redisUrl).toBe('redis://app:***@redis:6379');
    expect(printed.stdout).not.toContain('s3cret');
    const direct = spawnSync(process.execPath, [path.join(ROOT, 'dist/gateway/main.js'), '--print-config'], { cwd, env, encoding: 'utf8' });
    expect(direct.status).toBe(0);
    expect(JSON.parse(direct.stdout)).toEqual(config);
    const unknown = spawnSync(process.execPath, [path.join(ROOT, 'dist/scripts/service.js'), 'gatewy'], { cwd, env, encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown service "gatewy"; pass one of users, catalog, orders, payments, sagas, gateway, web-bff, mobile-bff, identity');
  });

  describe.each([
    ['compiled', 'npm run start:prod'],
    ['source', 'npm start'],
  ] as const)('%s platform (%s)', (build, _command) => {
    let platform: RunningPlatform;

    beforeAll(async () => {
      platform = await startPlatform({ build, env: { LOG_LEVEL: 'info', LOG_FORMAT: 'json' } });
    });

    afterAll(async () => {
      await platform.stop();
    });

    it('answers the four-subgraph query, and the mobile BFF serves its persisted operations', async () => {
      const token = await platformToken(platform.base, 'u1', ['payments:read']);
      const { status, body } = await postGraphQL(platform.gatewayUrl, FOUR_SUBGRAPHS, { headers: { authorization: `Bearer ${token}` } });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data).toMatchObject({ user: { name: 'Ada Lovelace', orders: [{ payment: { state: 'CAPTURED' } }, { items: [{ product: { name: 'Trellis Mug' } }, {}] }] } });
      const mobile = await fetch(`http://127.0.0.1:${platform.base + 200}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'Products', variables: { first: 1 } }),
      });
      expect(mobile.status).toBe(200);
      expect(await mobile.json()).toEqual({ data: { products: [{ id: 'p1', name: 'Trellis Mug', price: 12.5, inStock: 40 }] } });
    });

    it('keeps idle connections open 65 s on every listener, above a load balancer\'s 60 s idle timeout', async () => {
      for (const offset of [0, 1, 100, 200]) {
        expect(await keepAliveHeader(`http://127.0.0.1:${platform.base + offset}/health/live`)).toBe('timeout=65');
      }
    });

    it(`stops every process on Ctrl-C within ${CTRL_C_BOUND_MS} ms, each logging "stopped"`, async () => {
      const started = performance.now();
      const code = await platform.pressCtrlC();
      const elapsedMs = Math.round(performance.now() - started);
      process.stdout.write(`Ctrl-C on the ${build} platform: every process stopped in ${elapsedMs} ms\n`);
      expect(code).toBe(0);
      expect(elapsedMs).toBeLessThan(CTRL_C_BOUND_MS);
      expect(servicesThatLogged(platform.output(), 'stopped')).toEqual([...EVERY_PROCESS].sort());
      expect(platform.output()).not.toMatch(/stop took too long|"msg":"[a-z-]+ exited"/);
    });
  });
});
