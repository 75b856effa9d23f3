import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const HOST = hostname();

/** The kernel's start time of a process (clock ticks since boot, Linux), to tell a reused pid apart. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may contain spaces, so count from its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    const boot = bootId();
    return start ? `${boot ?? ''}:${start}` : undefined;
  } catch {
    return undefined;
  }
}

let cachedBootId: string | undefined | null = null;
/** This boot of the machine (Linux), to tell a runner that died in a reboot. */
export function bootId(): string | undefined {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = undefined;
    }
  }
  return cachedBootId;
}

/** Is the process alive, and (when known) the same process that recorded `startTime`? */
export function pidAlive(pid: number, startTime?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startTime === undefined) return true;
  const now = procStartTime(pid);
  return now === undefined || now === startTime;
}
