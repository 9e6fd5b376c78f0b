// kubectl llm logout: ends the gateway's CLI session (so a copy of the token is worthless
// too) and removes the cached token. A session the gateway no longer knows is no error.
import type { Command } from '../command.ts';
import { CliError } from '../errors.ts';
import {
  callGateway,
  errorMessage,
  gatewayFlag,
  gatewayTarget,
} from '../gateway/gateway-client.ts';

export const logout: Command = {
  name: 'logout',
  summary: 'End the session of kubectl llm login and forget its token.',
  usage: '[--gateway URL] [flags]',
  examples: ['kubectl llm logout'],
  flags: gatewayFlag,
  uses: { namespace: false, output: false },
  async run(ctx) {
    const target = gatewayTarget(ctx);
    const cached = target.cache.read(target.base, target.context);
    if (!cached) {
      ctx.io.out(`Not logged in to ${target.base}: nothing to do.\n`);
      return;
    }
    const answer = await callGateway(target, '/auth/logout', {
      method: 'POST',
      token: cached.token,
    });
    if (answer.status !== 200 && answer.status !== 401) {
      throw new CliError(
        `the gateway did not end the session: ${errorMessage(answer.body) ?? `HTTP ${answer.status}`}; the token is kept, run kubectl llm logout again`,
      );
    }
    target.cache.remove(target.base, target.context);
    ctx.io.out(`Logged out of ${target.base} (${cached.login}).\n`);
  },
};
