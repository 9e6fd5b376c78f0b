// The gateway's configuration, from environment variables only (the Helm chart sets them),
// validated in one pass so a bad deployment hears about every problem at once.
//
//   LITELLM_URL              base URL of the LiteLLM proxy requests are forwarded to (required)
//   REDIS_URL                the Redis holding the routing config and the rate-limit counters
//                            (required; redis://[:password@]host:port[/db], rediss://)
//   ROUTING_PREFIX           prefix of every Redis key, as the operator's (llmtenancy:)
//   PORT / HOST              the OpenAI API (8080 on 0.0.0.0)
//   MANAGEMENT_PORT          /healthz, /readyz and /metrics, kept off the public port (8081)
//   BODY_LIMIT               largest request body, in bytes; k, Ki, M, Mi suffixes (10Mi)
//   BODY_TIMEOUT             longest a request (headers and body) may take to arrive (60s)
//   TRUSTED_PROXIES          comma-separated addresses and CIDRs whose X-Forwarded-* are
//                            believed, like the OpenShift router's range; loopback,
//                            linklocal, uniquelocal name those ranges (none)
//   LITELLM_KEY_HEADER       LiteLLM's general_settings.litellm_key_header_name, if set: a
//                            key is read from it too, and it is never forwarded (unset)
//   UPSTREAM_CONNECT_TIMEOUT connecting to LiteLLM (5s)
//   UPSTREAM_HEADERS_TIMEOUT LiteLLM's first byte; models can think long before it (10m)
//   UPSTREAM_IDLE_TIMEOUT    longest silence inside a response (a stream) (5m)
//   LIMITS_WHEN_REDIS_DOWN   local | open | closed (local): with Redis unreachable, count the
//                            limits in this process alone, admit without limits, or refuse
//   TPM_RESERVE_DEFAULT_OUTPUT_TOKENS  output tokens a request without max_tokens reserves in
//                            its tpm limits until its usage is known (1024; README, Rate limits)
//   NEGATIVE_CACHE_TTL       how long an unknown key is refused without asking Redis (2s)
//   SHUTDOWN_GRACE           how long a stopping gateway lets running requests finish (30s)
//   LOG_LEVEL                trace | debug | info | warn | error | fatal | silent (info)
//   AUDIT_LOG                where audit records go: stdout, or a file path (stdout);
//                            README "Audit trail"
//   AUDIT_WEBHOOK_URL        a copy of every audit record, POSTed in signed batches; unset:
//                            no webhook (README "Audit trail")
//   AUDIT_WEBHOOK_SECRET_FILE  a file holding its HMAC-SHA256 signing secret (re-read)
//   SIGNIN_PROVIDER, …       the people side (sign-in, sessions, master key): signin/signin-config.ts
import { isIP } from 'node:net';
import { z } from 'zod';
import { formatDuration } from '../../contracts/config/duration.ts';
import type { AuditLogDestination } from '../../contracts/audit/audit-log.ts';
import { describeAuditTrail, type AuditWebhookConfig } from '../../contracts/audit/audit-trail.ts';
import {
  auditTrailConfig,
  auditTrailFields,
  ConfigError,
  duration,
  httpUrl,
  logLevel,
  port,
  problemsOf,
  redisUrl,
  routingPrefix,
  text,
  unsetIfEmpty,
  type LogLevel,
} from '../../contracts/config/env-fields.ts';
import { redactUrl } from '../../contracts/config/redact-url.ts';
import { FORWARDED_REQUEST_HEADERS } from './proxy/request-headers.ts';
import {
  describeSigninConfig,
  parseSigninConfig,
  type SigninConfig,
} from './signin/signin-config.ts';

export { ConfigError };

export type RedisDownLimits = 'local' | 'open' | 'closed';

export interface GatewayConfig {
  litellmUrl: string;
  redisUrl: string;
  routingPrefix: string;
  port: number;
  host: string;
  managementPort: number;
  bodyLimitBytes: number;
  bodyTimeoutMs: number;
  /** Addresses and CIDRs (or proxy-addr's loopback, linklocal, uniquelocal). */
  trustedProxies: string[];
  /** Lower case; undefined when LiteLLM reads keys only from its standard headers. */
  litellmKeyHeader: string | undefined;
  upstreamConnectTimeoutMs: number;
  upstreamHeadersTimeoutMs: number;
  upstreamIdleTimeoutMs: number;
  limitsWhenRedisDown: RedisDownLimits;
  tpmReserveDefaultOutputTokens: number;
  negativeCacheTtlMs: number;
  shutdownGraceMs: number;
  logLevel: LogLevel;
  /** AUDIT_LOG: where audit records go. */
  auditLog: AuditLogDestination;
  /** AUDIT_WEBHOOK_URL, AUDIT_WEBHOOK_SECRET_FILE: a copy of the records by webhook. */
  auditWebhook?: AuditWebhookConfig;
  /** The people side: sign-in, sessions, the master key (signin/signin-config.ts). */
  signin: SigninConfig;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  Ki: 1024,
  M: 1e6,
  Mi: 1024 ** 2,
  G: 1e9,
  Gi: 1024 ** 3,
};

/** Bytes in "10Mi", "512k", "1048576"; undefined when not a size. */
export function parseSize(value: string): number | undefined {
  const match = /^(\d+)(k|K|Ki|M|Mi|G|Gi)?$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * SIZE_UNITS[match[2] ?? '']!;
}

const size = (fallback: string) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const bytes = parseSize(value);
        if (bytes === undefined || bytes < 1024) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(value)} is not a size of at least 1Ki (like 512Ki, 10Mi)`,
          });
          return z.NEVER;
        }
        return bytes;
      }),
  );

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** "10.128.0.0/14", "192.0.2.7", "fd00::/8", "loopback": what proxy-addr accepts. */
function isProxyAddress(value: string): boolean {
  if (NAMED_RANGES.has(value)) return true;
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const trustedProxies = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .default('')
    .transform((value, ctx) => {
      const entries = value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      const bad = entries.filter((entry) => !isProxyAddress(entry));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `${bad.map((b) => JSON.stringify(b)).join(', ')}: not an address or CIDR (like 10.128.0.0/14) nor loopback, linklocal, uniquelocal`,
        });
        return z.NEVER;
      }
      return entries;
    }),
);

const keyHeader = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, 'must be an HTTP header name')
    .refine((name) => !FORWARDED_REQUEST_HEADERS.has(name), {
      message: 'must not be a header the gateway forwards',
    })
    .optional(),
);

const millisecond = { ms: 1, what: '1ms' };
const second = { ms: 1000, what: '1s' };

const Env = z.object({
  LITELLM_URL: httpUrl(
    'the base URL of the LiteLLM proxy requests go to',
    'http://litellm.litellm.svc:4000',
  ),
  REDIS_URL: redisUrl('the Redis holding the routing config and the rate-limit counters'),
  ROUTING_PREFIX: routingPrefix(),
  PORT: port(8080),
  HOST: text().default('0.0.0.0'),
  MANAGEMENT_PORT: port(8081),
  BODY_LIMIT: size('10Mi'),
  BODY_TIMEOUT: duration('60s', second),
  TRUSTED_PROXIES: trustedProxies,
  LITELLM_KEY_HEADER: keyHeader,
  UPSTREAM_CONNECT_TIMEOUT: duration('5s', millisecond),
  UPSTREAM_HEADERS_TIMEOUT: duration('10m', second),
  UPSTREAM_IDLE_TIMEOUT: duration('5m', second),
  LIMITS_WHEN_REDIS_DOWN: z.preprocess(
    unsetIfEmpty,
    z
      .enum(['local', 'open', 'closed'], { message: 'must be local, open or closed' })
      .default('local'),
  ),
  TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: 'must be a whole number of tokens' })
      .int({ message: 'must be a whole number of tokens' })
      .min(0, { message: 'must be 0 or more' })
      .default(1024),
  ),
  NEGATIVE_CACHE_TTL: duration('2s', { ms: 0, what: '0s' }),
  SHUTDOWN_GRACE: duration('30s', { ms: 0, what: '0s' }),
  LOG_LEVEL: logLevel(),
  ...auditTrailFields(),
});

/** The configuration in `env`; throws ConfigError listing every problem. */
export function parseGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const parsed = Env.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  // The ports are compared even when other variables are bad, so one run reports everything.
  const ports = Env.pick({ PORT: true, MANAGEMENT_PORT: true }).safeParse(env);
  if (ports.success && ports.data.PORT !== 0 && ports.data.PORT === ports.data.MANAGEMENT_PORT) {
    problems.push('MANAGEMENT_PORT: must differ from PORT');
  }
  const signin = parseSigninConfig(env, problems);
  if (!parsed.success || problems.length > 0 || signin === undefined)
    throw new ConfigError(problems);
  const e = parsed.data;
  return {
    litellmUrl: e.LITELLM_URL.replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL,
    routingPrefix: e.ROUTING_PREFIX,
    port: e.PORT,
    host: e.HOST,
    managementPort: e.MANAGEMENT_PORT,
    bodyLimitBytes: e.BODY_LIMIT,
    bodyTimeoutMs: e.BODY_TIMEOUT,
    trustedProxies: e.TRUSTED_PROXIES,
    litellmKeyHeader: e.LITELLM_KEY_HEADER,
    upstreamConnectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT,
    upstreamHeadersTimeoutMs: e.UPSTREAM_HEADERS_TIMEOUT,
    upstreamIdleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT,
    limitsWhenRedisDown: e.LIMITS_WHEN_REDIS_DOWN,
    tpmReserveDefaultOutputTokens: e.TPM_RESERVE_DEFAULT_OUTPUT_TOKENS,
    negativeCacheTtlMs: e.NEGATIVE_CACHE_TTL,
    shutdownGraceMs: e.SHUTDOWN_GRACE,
    logLevel: e.LOG_LEVEL,
    ...auditTrailConfig(e),
    signin,
  };
}

/** The configuration as logged at start: durations readable, no credentials. */
export function describeGatewayConfig(config: GatewayConfig): Record<string, unknown> {
  return {
    litellmUrl: config.litellmUrl,
    redis: redactUrl(config.redisUrl),
    routingPrefix: config.routingPrefix,
    listen: `${config.host}:${config.port}`,
    managementPort: config.managementPort,
    bodyLimitBytes: config.bodyLimitBytes,
    bodyTimeout: formatDuration(config.bodyTimeoutMs),
    trustedProxies: config.trustedProxies,
    ...(config.litellmKeyHeader ? { litellmKeyHeader: config.litellmKeyHeader } : {}),
    upstreamConnectTimeout: formatDuration(config.upstreamConnectTimeoutMs),
    upstreamHeadersTimeout: formatDuration(config.upstreamHeadersTimeoutMs),
    upstreamIdleTimeout: formatDuration(config.upstreamIdleTimeoutMs),
    limitsWhenRedisDown: config.limitsWhenRedisDown,
    tpmReserveDefaultOutputTokens: config.tpmReserveDefaultOutputTokens,
    negativeCacheTtl: formatDuration(config.negativeCacheTtlMs),
    shutdownGrace: formatDuration(config.shutdownGraceMs),
    logLevel: config.logLevel,
    ...describeAuditTrail(config),
    signin: describeSigninConfig(config.signin),
  };
}
