/** Rules on a child task's request that need nothing but the request and the spec. */
import type { ResolvedJobSpec, ResolvedStage } from '../../config/types.js';

/** A child's key: it becomes the last segment of the child's id (`<parent>/<key>`). */
export const CHILD_KEY = /^[A-Za-z0-9][\w.=-]*$/;

export interface ChildProblem {
  message: string;
  hint?: string;
}

/** Why a child cannot start, judged on its parent and key alone; undefined when it may. */
export function childKeyProblem(key: unknown, parent: { stopping: boolean; isChild: boolean }): ChildProblem | undefined {
  if (parent.stopping) return { message: `cannot start child "${key}": the parent is stopping` };
  if (parent.isChild) return { message: 'child tasks cannot start children of their own', hint: 'Run the nested work inside the child, or as a stage.' };
  if (typeof key !== 'string' || !CHILD_KEY.test(key)) return { message: `child key ${JSON.stringify(key)} is invalid`, hint: 'Use letters, digits, _, ., = and -, e.g. "trial=17".' };
  return undefined;
}

/** The stage a child names, or the problem naming the stages there are. */
export function childStage(spec: Pick<ResolvedJobSpec, 'stages'>, name: string): { stage: ResolvedStage } | ChildProblem {
  const stage = spec.stages.find((s) => s.id === name);
  if (!stage) return { message: `no stage "${name}" in the job spec`, hint: `Stages: ${spec.stages.map((s) => s.id).join(', ')}.` };
  return { stage };
}
