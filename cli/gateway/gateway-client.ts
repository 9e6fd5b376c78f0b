// The gateway's people side as the CLI calls it (/auth, /api): which gateway and kubeconfig
// context a command is about (the token cache is keyed by both), and JSON requests whose
// failures say what to do: unreachable → the port-forward to try, 401 → log in again.
import type { CommandContext } from '../command.ts';
import { CliError } from '../errors.ts';
import { jsonOf, unreachableReason } from '../health/gateway.ts';
import { locateGateway } from './locate.ts';
import { TokenCache, type CachedToken } from './token-cache.ts';

const TIMEOUT_MS = 15_000;

export const gatewayFlag = {
  gateway: {
    type: 'string' as const,
    value: 'URL',
    help: "The gateway's public URL (default: $KUBECTL_LLM_GATEWAY, $GATEWAY_URL, or the context's llmtenancy.dev/gateway extension).",
  },
};

export interface GatewayTarget {
  /** The gateway's base URL, without a trailing / or /v1. */
  base: string;
  /** The kubeconfig context the token belongs with ("" without a kubeconfig). */
  context: string;
  cache: TokenCache;
}

export function gatewayTarget(ctx: CommandContext): GatewayTarget {
  const location = locateGateway(ctx.values.gateway as string | undefined, ctx.global, ctx.io.env);
  if (!location) {
    throw new CliError(
      "which gateway? pass --gateway URL (its public address), set $KUBECTL_LLM_GATEWAY, or add the extension llmtenancy.dev/gateway to the kubeconfig context (see the README's kubectl llm section)",
    );
  }
  if (!/^https?:\/\//.test(location.url) || !URL.canParse(location.url)) {
    throw new CliError(
      `the gateway URL from ${location.source} is not an http(s) URL: ${location.url}`,
    );
  }
  const base = location.url.replace(/\/+$/, '').replace(/\/v1$/, '');
  let context = ctx.global.context ?? '';
  try {
    context = ctx.connection().kc.getCurrentContext();
  } catch {
    // No kubeconfig: the gateway's sign-in does not need one; the token is kept under "".
  }
  return { base, context, cache: new TokenCache(ctx.io.env) };
}

export const loginHint = (target: GatewayTarget) =>
  `run kubectl llm login${target.context ? ` --context ${target.context}` : ''} --gateway ${target.base}`;

/** A 401 with a cached token: the session behind it has ended. */
export const sessionEnded = (target: GatewayTarget) =>
  new CliError(
    `not logged in to ${target.base} any more (the session expired or was ended): ${loginHint(target)}`,
  );

/** The cached token for this gateway and context, or a CliError telling how to get one. */
export function cachedToken(target: GatewayTarget): CachedToken {
  const cached = target.cache.read(target.base, target.context);
  if (!cached) throw new CliError(`not logged in to ${target.base}: ${loginHint(target)}`);
  return cached;
}

export interface GatewayAnswer {
  status: number;
  /** The body as JSON; undefined when it is not JSON (a CSV, a proxy's HTML page). */
  body: unknown;
  /** The body as it came. */
  text: string;
}

/** The message of an OpenAI-shaped error body, if it is one. */
export const errorMessage = (body: unknown): string | undefined =>
  (body as { error?: { message?: string } } | undefined)?.error?.message;

export async function callGateway(
  target: GatewayTarget,
  path: string,
  init: { method?: string; token?: string; body?: unknown; accept?: string } = {},
): Promise<GatewayAnswer> {
  let response: Response;
  try {
    response = await fetch(`${target.base}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        accept: init.accept ?? 'application/json',
        ...(init.token && { authorization: `Bearer ${init.token}` }),
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new CliError(
      `gateway unreachable at ${target.base} (${unreachableReason(err)}); check the URL, or reach it through kubectl port-forward svc/<release>-gateway 8080 and pass --gateway http://localhost:8080`,
    );
  }
  const text = await response.text();
  return { status: response.status, body: jsonOf(text), text };
}
