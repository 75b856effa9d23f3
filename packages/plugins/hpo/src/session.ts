import { randomBytes } from 'node:crypto';
import { HOST, pidAlive, procStartTime as procStart } from '@runner/core';
import type { SessionRecord } from './types.js';

export function newSession(leaseMs: number): SessionRecord {
  const now = Date.now();
  return {
    id: `${HOST}:${process.pid}:${randomBytes(4).toString('hex')}`,
    pid: process.pid,
    host: HOST,
    procStart: procStart(process.pid),
    startedAt: now,
    heartbeatAt: now,
    leaseMs,
  };
}

/**
 * Is the session that started a trial still there? On this host: its process is alive and its
 * lease fresh; elsewhere: its lease is fresh.
 */
export function sessionAlive(s: SessionRecord | undefined, now = Date.now()): boolean {
  if (!s) return false;
  if (now - s.heartbeatAt > s.leaseMs) return false;
  return s.host !== HOST || pidAlive(s.pid, s.procStart);
}
