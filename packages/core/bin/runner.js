#!/usr/bin/env node
// The `runner` CLI. The TypeScript sources compile to dist/ (pnpm install runs the build).
let cli;
try {
  cli = await import('../dist/cli/index.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/index.js')) {
    console.error('error: the runner is not built yet. Run `pnpm build` (or `pnpm install`) at the repository root.');
    process.exit(2);
  }
  throw err;
}
await cli.main();
