// kubectl llm login: signs in through the gateway's SSO with the browser flow of native apps
// (RFC 8252, as kubelogin and `gcloud auth login` do): a listener on 127.0.0.1, the gateway's
// login page opened (or printed) with that loopback address, a state and a PKCE challenge;
// the one-time code that comes back is exchanged, with the verifier only this process knows,
// for a CLI token, kept in the token cache (cli/gateway/token-cache.ts). Why not a device
// code: no code to copy, and the code never leaves this machine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  CLI_LOGIN_PATH,
  CLI_TOKEN_PATH,
  challengeOf,
} from '../../contracts/cli-login/cli-login.ts';
import type { Command } from '../command.ts';
import { CliError } from '../errors.ts';
import {
  callGateway,
  errorMessage,
  gatewayFlag,
  gatewayTarget,
  type GatewayTarget,
} from '../gateway/gateway-client.ts';
import { listenOnLoopback } from '../gateway/loopback.ts';
import type { CachedToken } from '../gateway/token-cache.ts';
import { parseTimeout } from './key-create.ts';

interface TokenAnswer {
  token: string;
  expiresAt: string;
  user: string;
  login: string;
  role: string;
}

/** The platform's opener of a URL in the default browser; failing is fine (it is printed). */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // no opener: the URL is on the terminal
  }
}

async function exchange(
  target: GatewayTarget,
  code: string,
  codeVerifier: string,
  redirectUri: string,
): Promise<TokenAnswer> {
  const answer = await callGateway(target, CLI_TOKEN_PATH, {
    method: 'POST',
    body: { code, codeVerifier, redirectUri },
  });
  if (answer.status !== 200) {
    throw new CliError(
      `the gateway refused the login: ${errorMessage(answer.body) ?? `HTTP ${answer.status}`}`,
    );
  }
  return answer.body as TokenAnswer;
}

export const login: Command = {
  name: 'login',
  summary: "Log in through the gateway's single sign-on (a browser login).",
  usage: '[--gateway URL] [--no-browser] [flags]',
  description: `
Opens the gateway's sign-in in a browser and waits on 127.0.0.1 for it to come back; the
token it gets is kept, readable by you only, under ~/.kube/cache/llm-tenancy/ (one per
gateway and kubeconfig context) and used by whoami and logout. On a machine without a
browser, pass --no-browser and open the printed URL on this machine, or forward the
loopback port (ssh -L). The gateway is --gateway, else $KUBECTL_LLM_GATEWAY, else
$GATEWAY_URL, else the kubeconfig context's llmtenancy.dev/gateway extension.`,
  examples: [
    'kubectl llm login --gateway https://llm.apps.example.com',
    'kubectl llm login --no-browser',
  ],
  flags: {
    ...gatewayFlag,
    'no-browser': { type: 'boolean', help: 'Print the URL only; do not open a browser.' },
    timeout: {
      type: 'string',
      value: 'DURATION',
      help: 'How long to wait for the browser to come back (default 5m).',
    },
  },
  uses: { namespace: false, output: false },
  async run(ctx) {
    const target = gatewayTarget(ctx);
    const timeoutMs = parseTimeout(ctx.values.timeout as string | undefined, 300_000);
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(24).toString('base64url');
    const loopback = await listenOnLoopback(state);
    try {
      const url = new URL(`${target.base}${CLI_LOGIN_PATH}`);
      url.searchParams.set('redirect_uri', loopback.redirectUri);
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', challengeOf(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
      ctx.io.err(`Log in to ${target.base} in your browser:\n  ${url.href}\n`);
      if (ctx.values['no-browser'] !== true) openBrowser(url.href);
      const answer = await loopback
        .receive((code) => exchange(target, code, verifier, loopback.redirectUri), timeoutMs)
        .catch((err: unknown) => {
          if (err instanceof CliError) throw err;
          throw new CliError(`login did not complete: ${(err as Error).message}`);
        });
      const entry: CachedToken = {
        gateway: target.base,
        context: target.context,
        token: answer.token,
        expiresAt: answer.expiresAt,
        user: answer.user,
        login: answer.login,
      };
      const file = target.cache.write(entry);
      ctx.io.out(
        `Logged in to ${target.base} as ${answer.login} (User ${answer.user}, role ${answer.role}), until ${answer.expiresAt}.\n` +
          `Token kept in ${file}.\n`,
      );
    } finally {
      loopback.close();
    }
  },
};
