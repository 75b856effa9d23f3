import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { usage } from '../../errors.js';
import { isLoopback, newToken, TOKEN_ENV } from '../../serve/security.js';
import { print } from '../shared.js';

interface ServeArgs {
  port: number;
  host: string;
  runs: string;
  token?: string;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve a dashboard and a JSON API (OpenAPI at /openapi.json) over the runs in a directory',
  builder: (y) =>
    y
      .option('port', { alias: 'p', type: 'number', default: 8080, describe: 'Port (0 = any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: `Address to bind; any non-loopback address needs --token or ${TOKEN_ENV}` })
      .option('runs', { type: 'string', default: 'runs', describe: 'The runs directory (one run store per subdirectory)' })
      .option('token', { type: 'string', describe: `Token every request must carry (default: ${TOKEN_ENV}; on 127.0.0.1 without one, a random token guards the mutating endpoints)` })
      .example('$0 serve', 'Dashboard on http://127.0.0.1:8080 over ./runs')
      .example(`${TOKEN_ENV}=s3cret $0 serve --host 0.0.0.0`, 'Reachable from other machines, token required') as never,
  handler: async (args) => {
    const runsDir = resolve(args.runs);
    if (!existsSync(runsDir) || !statSync(runsDir).isDirectory()) throw usage(`--runs ${args.runs}: no such directory (${runsDir})`, 'Point --runs at the directory holding your runs (default ./runs), or start a run first.');
    const given = args.token ?? process.env[TOKEN_ENV];
    const loopback = isLoopback(args.host);
    if (!loopback && !given) {
      throw usage(`--host ${args.host} is reachable from other machines, and no token was given`, `Set one: ${TOKEN_ENV}=<long random string> runner serve --host ${args.host} (or --token), or keep the default --host 127.0.0.1.`);
    }
    if (given !== undefined && given.length < 8) throw usage('the token is too short (under 8 characters)', 'Use a long random string, e.g. `openssl rand -hex 24`.');
    const token = given ?? newToken();
    // fastify loads only for this command.
    const { createServer } = await import('../../serve/server.js');
    const { app } = await createServer({ runsDir, host: args.host, port: args.port, token, requireTokenForReads: !!given });
    const address = await app.listen({ host: args.host, port: args.port });
    const url = address.replace('://[::1]', '://localhost');
    print(`runner serve: dashboard ${url}/${given ? ' (send the token: open ' + url + '/?token=<token> once)' : ''}`);
    print(`API ${url}/api/runs, OpenAPI ${url}/openapi.json; runs from ${runsDir}`);
    if (!given) print(`token for changes (cancel, resume, checkpoints): ${token}`);
    await new Promise<void>((res) => {
      const stop = () => void app.close().then(() => res());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
