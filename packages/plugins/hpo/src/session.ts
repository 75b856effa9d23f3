import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { SessionRecord } from './types.js';

const HOST = hostname();

/** Start time of a process from /proc (Linux), so that a reused pid is not taken for the old one. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start === undefined) return true;
  const now = procStart(pid);
  return now === undefined || now === start;
}

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
