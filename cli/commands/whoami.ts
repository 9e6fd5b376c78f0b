// kubectl llm whoami: who the gateway takes you for with the token of kubectl llm login:
// your User, role and teams (GET /api/me), or what to run when there is no live session.
import type { Command } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import {
  cachedToken,
  callGateway,
  errorMessage,
  gatewayFlag,
  gatewayTarget,
  sessionEnded,
} from '../gateway/gateway-client.ts';
import { serialize } from '../output/print.ts';

/** The part of GET /api/me this prints (the whole answer with -o json|yaml). */
interface Me {
  login: string;
  userName: string | null;
  role: string;
  teams: { name: string; role?: string }[];
  kubernetes: { username: string; groups: string[] };
  warnings: string[];
}

export const whoami: Command = {
  name: 'whoami',
  summary: 'Show who you are logged in as at the gateway: User, role and teams.',
  usage: '[--gateway URL] [-o json|yaml] [flags]',
  examples: ['kubectl llm whoami', 'kubectl llm whoami -o json'],
  flags: gatewayFlag,
  uses: { namespace: false },
  async run(ctx) {
    const format = ctx.global.output;
    if (format !== 'table' && format !== 'json' && format !== 'yaml') {
      throw new UsageError(`whoami prints a table, json or yaml, not ${format}`);
    }
    const target = gatewayTarget(ctx);
    const cached = cachedToken(target);
    const answer = await callGateway(target, '/api/me', { token: cached.token });
    if (answer.status === 401) {
      throw sessionEnded(target);
    }
    if (answer.status !== 200) {
      throw new CliError(
        `GET ${target.base}/api/me failed: ${errorMessage(answer.body) ?? `HTTP ${answer.status}`}`,
      );
    }
    const me = answer.body as Me;
    if (format !== 'table') {
      ctx.io.out(serialize(me, format));
      return;
    }
    const teams = me.teams.map((t) => (t.role ? `${t.name} (${t.role})` : t.name));
    ctx.io.out(
      `User:        ${me.userName ?? '<none>'}\n` +
        `Login:       ${me.login}\n` +
        `Role:        ${me.role}\n` +
        `Teams:       ${teams.join(', ') || '<none>'}\n` +
        `Kubernetes:  ${me.kubernetes.username}${me.kubernetes.groups.length ? ` (groups ${me.kubernetes.groups.join(', ')})` : ''}\n` +
        `Gateway:     ${target.base} (token valid until ${cached.expiresAt})\n`,
    );
    for (const warning of me.warnings) ctx.io.err(`warning: ${warning}\n`);
  },
};
