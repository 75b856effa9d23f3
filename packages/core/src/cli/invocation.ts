import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';

/**
 * How to run this CLI again from where the user is: the command they used, so a printed hint
 * works when pasted. `pnpm runner` under pnpm, `npx runner` under npm, `runner` when the bin on
 * PATH is this one, else the path of the script (relative when below the working directory).
 */
export function invocation(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv, cwd = process.cwd()): string {
  const agent = env.npm_config_user_agent ?? '';
  if (agent.startsWith('pnpm/')) return 'pnpm runner';
  if (agent.startsWith('npm/')) return 'npx runner';
  const script = argv[1] ?? 'runner';
  if (onPath('runner', script, env.PATH ?? '')) return 'runner';
  const rel = relative(cwd, script);
  const path = rel.startsWith('..') || isAbsolute(rel) ? script : rel.startsWith('.') || rel.includes('/') ? rel : `./${rel}`;
  return script.endsWith('.js') ? `node ${path}` : path;
}

function onPath(name: string, script: string, path: string): boolean {
  let target: string;
  try {
    target = realpathSync(script);
  } catch {
    return false;
  }
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate) === target;
    } catch {
      // not here
    }
  }
  return false;
}
