import { describe, expect, test } from 'vitest';
import { resolveStageOptions } from '../options.js';

const schema = { type: 'object', properties: { lr: { type: 'number' }, steps: { type: 'integer', minimum: 1 } } };

describe('resolveStageOptions: placeholders and issues', () => {
  test('an unfilled placeholder passes the schema only when allowed (a spec, the test kit)', () => {
    const allowed = resolveStageOptions({ schema, layers: [{ lr: '${params.lr}' }], allowPlaceholders: true });
    expect(allowed.issues).toEqual([]);
    expect(allowed.options.lr).toBe('${params.lr}');
    const rejected = resolveStageOptions({ schema, layers: [{ lr: '${params.lr}' }] });
    expect(rejected.issues.map((i) => i.path)).toEqual([['lr']]);
  });

  test('other issues are still reported when placeholders are allowed, with paths under base', () => {
    const { issues } = resolveStageOptions({ schema, layers: [{ lr: '${params.lr}', steps: 0 }], allowPlaceholders: true, base: ['stages', 2, 'options'] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['stages', 2, 'options', 'steps']);
    expect(issues[0]!.message).toMatch(/>= 1/);
  });

  test('a filled parameter of the wrong type is an issue (child tasks check it when they start)', () => {
    const { issues } = resolveStageOptions({ schema, layers: [{ lr: '${params.lr}' }], params: { lr: 'fast' } });
    expect(issues.map((i) => i.path)).toEqual([['lr']]);
  });
});
