/**
 * Use runner from your own project: pack every workspace package as `pnpm publish` would, check
 * each tarball's manifest and files, install the tarballs with plain npm into a fresh project
 * outside the repository (from a registry on 127.0.0.1 that serves this machine's pnpm store:
 * no network), type-check a TypeScript plugin against the shipped types under `strict`, and run
 * `runner start` there with a built-in plugin, a custom .mjs plugin and a custom .ts plugin.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO } from '@runner/test-helpers/cli';
import { startLocalRegistry, tarEntries, type LocalRegistry } from '@runner/test-helpers/local-registry';

/** Every workspace package: the core and each plugin. */
const PACKAGES = ['packages/core', ...readdirSync(join(REPO, 'packages/plugins')).filter((d) => existsSync(join(REPO, 'packages/plugins', d, 'package.json'))).map((d) => `packages/plugins/${d}`)];
const NAMES = PACKAGES.map((p) => (JSON.parse(readFileSync(join(REPO, p, 'package.json'), 'utf8')) as { name: string }).name).sort();
/** Installed in the project; train is packed and checked but not installed (TensorFlow.js is ~90 MB). */
const INSTALLED = ['@runner/core', '@runner/plugin-steps', '@runner/plugin-download', '@runner/plugin-hpo'];

interface Run {
  code: number | null;
  out: string;
}

/**
 * The environment of a user's shell: without what `pnpm test` and vitest add (NODE_PATH points
 * into the workspace's node_modules, where every workspace package would resolve; npm_config_*
 * would steer npm), so that nothing is found that the project did not install.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'NODE_PATH' && !/^npm_/i.test(k)) env[k] = v;
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...userEnv(), NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** pnpm as the test runner was started with (`pnpm test`), or the pinned one through npx. */
function pnpm(): [string, string[]] {
  const exec = process.env.npm_execpath;
  if (exec && /pnpm/.test(exec)) return [process.execPath, [exec]];
  return ['npx', ['-y', 'pnpm@10.34.8']];
}

let work: string;
let project: string;
let registry: LocalRegistry | undefined;
const tarballs = new Map<string, Buffer>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'runner-pack-'));
  const packs = join(work, 'packs');
  const [cmd, pre] = pnpm();
  const results = await Promise.all(PACKAGES.map((p) => run(cmd, [...pre, 'pack', '--pack-destination', packs], join(REPO, p))));
  for (const r of results) expect(r.code, r.out).toBe(0);
  for (const f of readdirSync(packs)) {
    const tgz = readFileSync(join(packs, f));
    const manifest = JSON.parse(tarEntries(tgz).get('package/package.json')!.toString()) as { name: string };
    tarballs.set(manifest.name, tgz);
  }
  registry = await startLocalRegistry(join(REPO, 'node_modules/.pnpm'), [...tarballs.values()]);
}, 120_000);

afterAll(async () => {
  await registry?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('every package is publishable', () => {
  test('manifests have no workspace: ranges, and name files that exist', () => {
    expect([...tarballs.keys()].sort()).toEqual(NAMES);
    expect(NAMES).toEqual(expect.arrayContaining(['@runner/core', '@runner/plugin-download', '@runner/plugin-hpo', '@runner/plugin-steps', '@runner/plugin-train']));
    for (const [name, tgz] of tarballs) {
      const files = tarEntries(tgz);
      const text = files.get('package/package.json')!.toString();
      expect(text, name).not.toContain('workspace:');
      const m = JSON.parse(text) as { types: string; main: string; exports: Record<string, string | Record<string, string>>; peerDependencies?: Record<string, string> };
      if (name !== '@runner/core') expect(m.peerDependencies?.['@runner/core'], name).toMatch(/^(\^|>=)\d+\.\d+\.\d+/);
      for (const f of ['README.md', 'LICENSE', m.main.replace(/^\.\//, ''), m.types.replace(/^\.\//, '')]) expect(files.has(`package/${f}`), `${name}: ${f}`).toBe(true);
      for (const [sub, target] of Object.entries(m.exports)) {
        for (const t of typeof target === 'string' ? [target] : Object.values(target)) expect(files.has(`package/${t.replace(/^\.\//, '')}`), `${name} exports ${sub}: ${t}`).toBe(true);
      }
      // Stack frames map to sources that ship: every .js has its map, and each map's sources are in the tarball.
      for (const [f, body] of files) {
        if (!f.endsWith('.js.map')) continue;
        for (const src of (JSON.parse(body.toString()) as { sources: string[] }).sources) {
          expect(files.has(join(dirname(f), src)), `${name}: ${f} → ${src}`).toBe(true);
        }
      }
      expect([...files.keys()].filter((f) => /\.test\.|tsbuildinfo/.test(f)), name).toEqual([]);
    }
  });

  test('the core declares the type packages its shipped .d.ts files need', () => {
    const m = JSON.parse(tarEntries(tarballs.get('@runner/core')!).get('package/package.json')!.toString()) as { dependencies: Record<string, string> };
    expect(Object.keys(m.dependencies)).toContain('@types/yargs');
  });
});

// The four checks below share the installed project and touch disjoint files and runs: concurrent.
describe.concurrent('in a fresh project outside the repository', () => {
  beforeAll(async () => {
    project = join(work, 'my-project');
    mkdirSync(join(project, 'plugins'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-project', private: true, type: 'module' }, null, 2));
    writeFileSync(join(work, 'npmrc'), '');
    const r = await run(
      'npm',
      ['install', ...INSTALLED, '@types/node@20', 'typescript@5', '--registry', registry!.url, '--cache', join(work, 'npm-cache'), '--userconfig', join(work, 'npmrc'), '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel', 'error'],
      project,
    );
    expect(r.code, `${r.out}\nmissing: ${[...registry!.missing].join(', ')}`).toBe(0);
    for (const [f, text] of Object.entries(files)) writeFileSync(join(project, f), text);
    // The README's "Use runner in your own project" example, as written, in readme/.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8').split('## Use runner in your own project')[1]!.split('\n## ')[0]!;
    const ts = /```ts\n\/\/ (plugins\/[\w-]+\.ts)\n([\s\S]*?)```/.exec(readme)!;
    const yaml = /```yaml\n# (job\.yaml)\n([\s\S]*?)```/.exec(readme)!;
    mkdirSync(join(project, 'readme/plugins'), { recursive: true });
    writeFileSync(join(project, 'readme', ts[1]!), ts[2]!);
    writeFileSync(join(project, 'readme', yaml[1]!), yaml[2]!);
  }, 180_000);

  const files: Record<string, string> = {
    'plugins/greet.mjs': `export default {
  name: 'greet',
  version: '1.0.0',
  schema: { type: 'object', properties: { who: { type: 'string', default: 'world', description: 'Whom to greet.' } } },
  async run(ctx) { return { text: \`hello \${ctx.options.who} from \${ctx.task.cell.symbol}\` }; },
};
`,
    'plugins/count.ts': `import { definePlugin, PluginError } from '@runner/core';

interface CountOptions {
  to: number;
}

export default definePlugin<CountOptions, { counted: number; upstream: number }, { i: number }>({
  name: 'count',
  version: '1.0.0',
  schema: {
    type: 'object',
    properties: { to: { type: 'integer', minimum: 1, default: 5, description: 'Count up to this number.' } },
    required: ['to'],
  },
  resumeSafe: ['to'],
  async run(ctx) {
    const saved = await ctx.checkpoint.load();
    let i = saved ? saved.state.i : 0;
    while (i < ctx.options.to) {
      i += 1;
      await ctx.checkpoint.save({ i }, { step: i, total: ctx.options.to });
    }
    if (i > 100) throw new PluginError('COUNT_TOO_FAR', \`counted to \${i}\`, { retryable: false });
    return { counted: i, upstream: Object.keys(ctx.upstream).length };
  },
});
`,
    'job.yaml': `name: pack
matrix: { symbol: [AAPL, MSFT] }
plugins: [./plugins/greet.mjs, ./plugins/count.ts]
stages:
  - { id: warmup, plugin: steps, per: [symbol], options: { steps: 20 } }
  - { id: hello, plugin: greet, per: [symbol], needs: [warmup], options: { who: you } }
  - { id: count, plugin: count, per: [symbol], needs: [hello], options: { to: 7 } }
`,
    'train.yaml': `name: t
stages:
  - { id: fit, plugin: train }
`,
    'tsconfig.json': JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: ['node'] },
      include: ['plugins/*.ts', 'readme/plugins/*.ts'],
    }),
  };

  test('runner start runs a built-in, a .mjs and a .ts plugin', async () => {
    const bin = join(project, 'node_modules/.bin/runner');
    const start = await run(bin, ['start', 'job.yaml'], project);
    expect(start.code, start.out).toBe(0);
    expect(start.out).toContain('6/6 completed');
    const tasks = await run(bin, ['tasks', 'job.yaml', '--json'], project);
    const byId = Object.fromEntries((JSON.parse(tasks.out) as { id: string; result: unknown }[]).map((t) => [t.id, t.result]));
    expect(byId['hello/symbol=MSFT/cycle=1']).toEqual({ text: 'hello you from MSFT' });
    expect(byId['count/symbol=AAPL/cycle=1']).toEqual({ counted: 7, upstream: 1 });
    expect((byId['warmup/symbol=AAPL/cycle=1'] as { steps: number }).steps).toBe(20);
  }, 60_000);

  test("the README's example runs as written", async () => {
    const bin = join(project, 'node_modules/.bin/runner');
    const start = await run(bin, ['start', 'readme/job.yaml'], project);
    expect(start.code, start.out).toBe(0);
    const tasks = JSON.parse((await run(bin, ['tasks', 'readme/job.yaml', '--json'], project)).out) as { id: string; result: unknown }[];
    expect(tasks.find((t) => t.id === 'hello/symbol=MSFT/cycle=1')?.result).toEqual({ text: 'hello you from MSFT' });
  }, 60_000);

  test('the TypeScript plugin type-checks under strict against the shipped types (skipLibCheck off)', async () => {
    const r = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--listFiles'], project);
    for (const f of ['plugins/count.ts', 'readme/plugins/hello.ts', 'node_modules/@runner/core/dist/index.d.ts']) expect(r.out).toContain(join(project, f));
    const errors = r.out.split('\n').filter((l) => /error TS\d+/.test(l));
    // lmdb's own index.d.ts uses `export =` in an ES module, which tsc rejects without
    // skipLibCheck; that is lmdb's to fix. Everything else (the plugin, every file of ours) is clean.
    expect(errors.filter((l) => !l.startsWith('node_modules/lmdb/')), r.out).toEqual([]);
  }, 60_000);

  test('a built-in plugin that is not installed says how to install it', async () => {
    const r = await run(join(project, 'node_modules/.bin/runner'), ['validate', 'train.yaml'], project);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain('npm i @runner/plugin-train');
    expect(r.out).not.toContain('Did you mean');
  }, 30_000);
});
