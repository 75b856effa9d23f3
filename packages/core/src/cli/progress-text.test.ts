import { describe, expect, test } from 'vitest';
import { invocation } from './invocation.js';
import { progressText } from './progress-text.js';

describe('progressText', () => {
  test('epochs with the batch inside the current one', () => {
    expect(progressText({ step: 20.289, total: 40, unit: 'epoch', inner: { step: 12, total: 38, unit: 'batch' } })).toBe('epoch 21/40, batch 12/38');
    expect(progressText({ step: 21, total: 40, unit: 'epoch', inner: { step: 38, total: 38, unit: 'batch' } })).toBe('epoch 21/40');
    expect(progressText({ step: 7, total: 50, unit: 'trial' })).toBe('trial 7/50');
  });
  test('plain steps; fractions rounded; nothing without a step', () => {
    expect(progressText({ step: 120, total: 200 })).toBe('120/200');
    expect(progressText({ step: 20.289, total: 40 })).toBe('20.3/40');
    expect(progressText({})).toBe('');
    expect(progressText(undefined)).toBe('');
  });
});

describe('invocation', () => {
  test('the command the user ran', () => {
    expect(invocation({ npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64' }, ['node', '/x/runner'], '/x')).toBe('pnpm runner');
    expect(invocation({ npm_config_user_agent: 'npm/10.8.2 node/v20' }, ['node', '/x/runner'], '/x')).toBe('npx runner');
    expect(invocation({ PATH: '' }, ['node', '/repo/node_modules/.bin/runner'], '/repo')).toBe('node_modules/.bin/runner');
    expect(invocation({ PATH: '' }, ['node', '/repo/packages/core/bin/runner.js'], '/elsewhere')).toBe('node /repo/packages/core/bin/runner.js');
  });
});
