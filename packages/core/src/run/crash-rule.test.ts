import { describe, expect, test } from 'vitest';
import { judgeDeath, QUARANTINE_AFTER } from './crash-rule.js';

describe('judgeDeath', () => {
  test('one death blames nobody; the second in a row without progress quarantines, naming the peers', () => {
    const first = judgeDeath([{ id: 'a', progressed: false }, { id: 'b', progressed: false }], 'unexplained');
    expect(first.get('a')).toEqual({ suspect: { deaths: 1, peers: ['b'] } });
    const second = judgeDeath(
      [
        { id: 'a', progressed: false, suspect: first.get('a')!.suspect },
        { id: 'c', progressed: false },
      ],
      'unexplained',
    );
    expect(QUARANTINE_AFTER).toBe(2);
    expect(second.get('a')!.quarantine).toBe(true);
    // b was not there the second time: a was alone among the suspects of both deaths.
    expect(second.get('a')!.suspect).toEqual({ deaths: 2, peers: [] });
    expect(second.get('a')!.note).toMatch(/last 2 runner deaths without saving a checkpoint \(alone\)/);
    expect(second.get('c')).toEqual({ suspect: { deaths: 1, peers: ['a'] } });
  });

  test('progress, a waiting parent, a reboot and a second Ctrl+C do not count', () => {
    const prev = { deaths: 1, peers: [] };
    expect(judgeDeath([{ id: 'a', progressed: true, suspect: prev }], 'unexplained').get('a')).toEqual({});
    const withChild = judgeDeath([{ id: 'p', progressed: false, suspect: prev }, { id: 'p/trial=0', parent: 'p', progressed: false }], 'unexplained');
    expect(withChild.get('p')).toEqual({ suspect: prev });
    expect(withChild.get('p/trial=0')).toEqual({ suspect: { deaths: 1, peers: [] } });
    expect(judgeDeath([{ id: 'a', progressed: false, suspect: prev }], 'reboot').get('a')).toEqual({ suspect: prev });
    expect(judgeDeath([{ id: 'a', progressed: false, suspect: prev }], 'signal').get('a')).toEqual({ suspect: prev });
  });
});
