import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadJobSpec } from '../src/config/load.js';
import { encodeIdPart, idMatcher, planRun } from '../src/run/plan.js';

async function plan(yaml: string, set?: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'runner-plan-'));
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'job.yaml'), yaml);
  return planRun(await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir, set }));
}

const SPEC = `name: p
matrix: { symbol: [AAPL, MSFT], horizon: [1, 5] }
cycle: 2
stages:
  - { id: download, plugin: steps, per: [symbol] }
  - { id: work, plugin: steps, needs: [download], options: { steps: 20 } }
  - { id: report, plugin: steps, per: [], needs: [work] }
`;

describe('planRun', () => {
  test('expands matrix × cycle × stage into stable ids', async () => {
    const p = await plan(SPEC);
    expect(p.tasks.map((t) => t.id)).toEqual([
      'download/symbol=AAPL/cycle=2',
      'download/symbol=MSFT/cycle=2',
      'work/symbol=AAPL/horizon=1/cycle=2',
      'work/symbol=AAPL/horizon=5/cycle=2',
      'work/symbol=MSFT/horizon=1/cycle=2',
      'work/symbol=MSFT/horizon=5/cycle=2',
      'report/cycle=2',
    ]);
  });

  test('needs resolve within the cell: coarser stages give one task, finer ones fan in', async () => {
    const p = await plan(SPEC);
    expect(p.byId.get('work/symbol=MSFT/horizon=5/cycle=2')!.needs).toEqual(['download/symbol=MSFT/cycle=2']);
    expect(p.byId.get('work/symbol=MSFT/horizon=5/cycle=2')!.upstream).toEqual([{ stage: 'download', ids: ['download/symbol=MSFT/cycle=2'], fanIn: false }]);
    const report = p.byId.get('report/cycle=2')!;
    expect(report.needs).toHaveLength(4);
    expect(report.upstream[0]!.fanIn).toBe(true);
    expect(p.dependents.get('download/symbol=AAPL/cycle=2')).toEqual(['work/symbol=AAPL/horizon=1/cycle=2', 'work/symbol=AAPL/horizon=5/cycle=2']);
  });

  test('resume-safe options change targets, not the fingerprint; other options change both the fingerprint and the digest', async () => {
    const a = await plan(SPEC);
    const b = await plan(SPEC, ['stages.work.options.steps=40']);
    const c = await plan(SPEC, ['stages.work.options.seed=3']);
    const id = 'work/symbol=AAPL/horizon=1/cycle=2';
    expect(b.byId.get(id)!.fingerprint).toBe(a.byId.get(id)!.fingerprint);
    expect(b.byId.get(id)!.targets).not.toBe(a.byId.get(id)!.targets);
    expect(c.byId.get(id)!.fingerprint).not.toBe(a.byId.get(id)!.fingerprint);
    expect(c.digest).not.toBe(a.digest);
    expect((await plan(SPEC)).digest).toBe(a.digest);
  });

  test('operational options change neither the fingerprint nor the targets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-plan-'));
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(
      join(dir, 'fetch.mjs'),
      `export default { name: 'fetch', version: '1.0.0', resumeSafe: ['pages'], operational: ['concurrency', 'retry.max'],
        schema: { type: 'object', properties: { url: { type: 'string', default: 'x' }, pages: { type: 'integer', default: 1 },
          concurrency: { type: 'integer', default: 4 }, retry: { type: 'object', default: {}, properties: { max: { type: 'integer', default: 3 } } } } },
        run() {} };`,
    );
    writeFileSync(join(dir, 'job.yaml'), 'name: f\nplugins: [./fetch.mjs]\nstages:\n  - { id: s, plugin: fetch }\n');
    const load = async (set: string[]) => planRun(await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir, set })).tasks[0]!;
    const base = await load([]);
    const ops = await load(['stages.s.options.concurrency=16', 'stages.s.options.retry.max=9']);
    expect([ops.fingerprint, ops.targets]).toEqual([base.fingerprint, base.targets]);
    const target = await load(['stages.s.options.pages=5']);
    expect(target.fingerprint).toBe(base.fingerprint);
    expect(target.targets).not.toBe(base.targets);
    expect((await load(['stages.s.options.url=y'])).fingerprint).not.toBe(base.fingerprint);
  });

  test('values are encoded so ids stay unambiguous', async () => {
    expect(encodeIdPart('BTC/USDT')).toBe('BTC%2FUSDT');
    const p = await plan('name: x\nmatrix: { pair: ["BTC/USDT", "a b"] }\nstages:\n  - { id: s, plugin: steps }\n');
    expect(p.tasks.map((t) => t.id)).toEqual(['s/pair=BTC%2FUSDT/cycle=1', 's/pair=a%20b/cycle=1']);
  });

  test('patterns match ids with * wildcards, and plain prefixes by segment', () => {
    const m = idMatcher('work/*AAPL*');
    expect(m('work/symbol=AAPL/horizon=1/cycle=2')).toBe(true);
    expect(m('after/symbol=AAPL/horizon=1/cycle=2')).toBe(false);
    expect(idMatcher('work')('work/symbol=A/cycle=1')).toBe(true);
    expect(idMatcher('work')('workers/symbol=A/cycle=1')).toBe(false);
    expect(idMatcher('work/symbol=A/cycle=1')('work/symbol=A/cycle=1/trial=3')).toBe(true);
  });
});
