/**
 * Which ledger a task writes. The session id lives in the task's first checkpoint: a fresh task
 * (first start, `runner reset`, or options that change what is traded, which invalidate its
 * checkpoints) gets a new session and so an empty ledger and a fresh broker account; any restart
 * of the same task finds the same session and continues its ledger.
 */
import { randomUUID } from 'node:crypto';
import type { TaskContext } from '@runner/core';

interface SessionState {
  v: 1;
  session: string;
  startedAt: number;
}

export async function sessionOf(ctx: TaskContext<any>): Promise<{ scope: string; fresh: boolean }> {
  const saved = await ctx.checkpoint.load<SessionState>();
  if (saved?.state?.v === 1 && typeof saved.state.session === 'string') return { scope: `${ctx.task.id}#${saved.state.session}`, fresh: false };
  const state: SessionState = { v: 1, session: randomUUID(), startedAt: Date.now() };
  await ctx.checkpoint.save(state, { step: 0 });
  return { scope: `${ctx.task.id}#${state.session}`, fresh: true };
}
