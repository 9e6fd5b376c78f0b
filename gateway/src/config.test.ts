import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  describeGatewayConfig,
  parseGatewayConfig,
  parseSize,
  type GatewayConfig,
} from './config.ts';

const minimal = {
  LITELLM_URL: 'http://litellm.litellm.svc:4000/',
  REDIS_URL: 'redis://:s3cret@redis.llm-tenancy.svc:6379',
};

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    parseGatewayConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseGatewayConfig', () => {
  it('fills in the defaults', () => {
    expect(parseGatewayConfig(minimal)).toEqual<GatewayConfig>({
      litellmUrl: 'http://litellm.litellm.svc:4000',
      redisUrl: 'redis://:s3cret@redis.llm-tenancy.svc:6379',
      routingPrefix: 'llmtenancy:',
      port: 8080,
      host: '0.0.0.0',
      managementPort: 8081,
      bodyLimitBytes: 10 * 1024 * 1024,
      bodyTimeoutMs: 60_000,
      trustedProxies: [],
      litellmKeyHeader: undefined,
      upstreamConnectTimeoutMs: 5_000,
      upstreamHeadersTimeoutMs: 600_000,
      upstreamIdleTimeoutMs: 300_000,
      limitsWhenRedisDown: 'local',
      tpmReserveDefaultOutputTokens: 1024,
      negativeCacheTtlMs: 2_000,
      shutdownGraceMs: 30_000,
      logLevel: 'info',
      auditLog: 'stdout',
      signin: {
        provider: 'off',
        sessions: {
          secret: undefined,
          cookieSecure: true,
          idleLifetimeMs: 8 * 3_600_000,
          absoluteLifetimeMs: 24 * 3_600_000,
          cliLifetimeMs: 7 * 86_400_000,
        },
        roleGroups: {},
        defaultRole: 'user',
        autoProvision: true,
        teamGroups: undefined,
        userReadyTimeoutMs: 30_000,
        usernamePrefix: '',
        groupsPrefix: '',
        masterKeyFile: undefined,
        masterKeyGroups: ['llm-tenancy-admins'],
      },
    });
  });

  it('reads every variable', () => {
    expect(
      parseGatewayConfig({
        LITELLM_URL: 'https://litellm.example.com/proxy//',
        REDIS_URL: 'rediss://redis.example.com:6380/2',
        ROUTING_PREFIX: 'staging:',
        PORT: '9000',
        HOST: ' 127.0.0.1 ',
        MANAGEMENT_PORT: '9001',
        BODY_LIMIT: '512k',
        BODY_TIMEOUT: '2m',
        TRUSTED_PROXIES: ' 10.128.0.0/14, 192.0.2.7,fd00::/8 , loopback',
        LITELLM_KEY_HEADER: ' X-LiteLLM-Key ',
        UPSTREAM_CONNECT_TIMEOUT: '250ms',
        UPSTREAM_HEADERS_TIMEOUT: '1h30m',
        UPSTREAM_IDLE_TIMEOUT: '45s',
        LIMITS_WHEN_REDIS_DOWN: 'closed',
        TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: '256',
        NEGATIVE_CACHE_TTL: '500ms',
        SHUTDOWN_GRACE: '2m',
        LOG_LEVEL: 'DEBUG',
        AUDIT_LOG: '/var/log/llm-tenancy/audit.jsonl',
        AUDIT_WEBHOOK_URL: 'https://siem.example.com/hooks/llm?token=t0k3n',
        AUDIT_WEBHOOK_SECRET_FILE: '/etc/llm-tenancy/audit-webhook/secret',
      }),
    ).toEqual<GatewayConfig>({
      litellmUrl: 'https://litellm.example.com/proxy',
      redisUrl: 'rediss://redis.example.com:6380/2',
      routingPrefix: 'staging:',
      port: 9000,
      host: '127.0.0.1',
      managementPort: 9001,
      bodyLimitBytes: 512_000,
      bodyTimeoutMs: 120_000,
      trustedProxies: ['10.128.0.0/14', '192.0.2.7', 'fd00::/8', 'loopback'],
      litellmKeyHeader: 'x-litellm-key',
      upstreamConnectTimeoutMs: 250,
      upstreamHeadersTimeoutMs: 5_400_000,
      upstreamIdleTimeoutMs: 45_000,
      limitsWhenRedisDown: 'closed',
      tpmReserveDefaultOutputTokens: 256,
      negativeCacheTtlMs: 500,
      shutdownGraceMs: 120_000,
      logLevel: 'debug',
      auditLog: { file: '/var/log/llm-tenancy/audit.jsonl' },
      auditWebhook: {
        url: 'https://siem.example.com/hooks/llm?token=t0k3n',
        secretFile: '/etc/llm-tenancy/audit-webhook/secret',
      },
      signin: parseGatewayConfig(minimal).signin,
    });
  });

  it('names a bad audit webhook URL, and logs only its origin', () => {
    expect(problemsOf({ ...minimal, AUDIT_WEBHOOK_URL: 'siem.example.com' })).toEqual([
      'AUDIT_WEBHOOK_URL: must be an http(s) URL, e.g. https://siem.example.com/llm-tenancy',
    ]);
    const described = describeGatewayConfig(
      parseGatewayConfig({
        ...minimal,
        AUDIT_WEBHOOK_URL: 'https://u:pw@siem.example.com/hooks/T0K3N?token=t0k3n',
      }),
    );
    expect(described.auditWebhook).toEqual({ origin: 'https://siem.example.com', signing: 'off' });
    expect(JSON.stringify(described)).not.toMatch(/pw|T0K3N|t0k3n/);
  });

  it('treats empty variables as unset', () => {
    const config = parseGatewayConfig({
      ...minimal,
      ROUTING_PREFIX: '',
      PORT: ' ',
      HOST: '',
      MANAGEMENT_PORT: '',
      BODY_LIMIT: '',
      BODY_TIMEOUT: '',
      TRUSTED_PROXIES: ' ',
      LITELLM_KEY_HEADER: '',
      UPSTREAM_CONNECT_TIMEOUT: '',
      LIMITS_WHEN_REDIS_DOWN: '',
      TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: '',
      NEGATIVE_CACHE_TTL: '',
      LOG_LEVEL: '',
    });
    expect(config).toEqual(parseGatewayConfig(minimal));
  });

  it.each([
    ['10Mi', 10 * 1024 * 1024],
    ['512k', 512_000],
    ['512K', 512_000],
    ['512Ki', 512 * 1024],
    ['2M', 2_000_000],
    ['1Gi', 1024 ** 3],
    ['1048576', 1_048_576],
    ['1024', 1024],
  ])('reads BODY_LIMIT=%s as %d bytes', (value, bytes) => {
    expect(parseGatewayConfig({ ...minimal, BODY_LIMIT: value }).bodyLimitBytes).toBe(bytes);
  });

  it.each(['10MB', '10 Mi', '-1', '1.5Mi', 'ten', '1023', '1k', 'Mi'])(
    'refuses BODY_LIMIT=%s',
    (value) => {
      const problems = problemsOf({ ...minimal, BODY_LIMIT: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^BODY_LIMIT: .*is not a size of at least 1Ki/);
    },
  );

  it.each(['open', 'local', 'closed'] as const)('accepts LIMITS_WHEN_REDIS_DOWN=%s', (mode) => {
    expect(
      parseGatewayConfig({ ...minimal, LIMITS_WHEN_REDIS_DOWN: mode }).limitsWhenRedisDown,
    ).toBe(mode);
  });

  it('accepts 0s for the negative cache and the shutdown grace', () => {
    const config = parseGatewayConfig({
      ...minimal,
      NEGATIVE_CACHE_TTL: '0s',
      SHUTDOWN_GRACE: '0s',
    });
    expect(config.negativeCacheTtlMs).toBe(0);
    expect(config.shutdownGraceMs).toBe(0);
  });

  it('refuses upstream timeouts below their minimum', () => {
    expect(
      problemsOf({
        ...minimal,
        UPSTREAM_CONNECT_TIMEOUT: '0s',
        UPSTREAM_HEADERS_TIMEOUT: '500ms',
        UPSTREAM_IDLE_TIMEOUT: '0s',
      }),
    ).toEqual([
      'UPSTREAM_CONNECT_TIMEOUT: must be at least 1ms',
      'UPSTREAM_HEADERS_TIMEOUT: must be at least 1s',
      'UPSTREAM_IDLE_TIMEOUT: must be at least 1s',
    ]);
  });

  it('lists every problem at once in one ConfigError', () => {
    let error: unknown;
    try {
      parseGatewayConfig({
        LITELLM_URL: 'litellm:4000',
        ROUTING_PREFIX: 'has spaces',
        PORT: '70000',
        MANAGEMENT_PORT: 'http',
        BODY_LIMIT: '10MB',
        UPSTREAM_CONNECT_TIMEOUT: '300',
        LIMITS_WHEN_REDIS_DOWN: 'fail',
        TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: '-5',
        NEGATIVE_CACHE_TTL: 'soon',
        LOG_LEVEL: 'verbose',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    const variables = problems.map((p) => p.slice(0, p.indexOf(':')));
    expect(variables).toEqual([
      'LITELLM_URL',
      'REDIS_URL',
      'ROUTING_PREFIX',
      'PORT',
      'MANAGEMENT_PORT',
      'BODY_LIMIT',
      'UPSTREAM_CONNECT_TIMEOUT',
      'LIMITS_WHEN_REDIS_DOWN',
      'TPM_RESERVE_DEFAULT_OUTPUT_TOKENS',
      'NEGATIVE_CACHE_TTL',
      'LOG_LEVEL',
    ]);
    expect(problems).toContain(
      'LITELLM_URL: must be an http(s) URL, e.g. http://litellm.litellm.svc:4000',
    );
    expect(problems).toContain(
      'REDIS_URL: is required: the Redis holding the routing config and the rate-limit counters',
    );
    expect(problems).toContain('LIMITS_WHEN_REDIS_DOWN: must be local, open or closed');
    expect(problems).toContain('TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: must be 0 or more');
    expect(problems).toContain(
      'UPSTREAM_CONNECT_TIMEOUT: "300" is not a duration (like 30s, 5m, 1h30m)',
    );
    // The message carries every problem, one a line.
    for (const problem of problems) expect((error as Error).message).toContain(`  - ${problem}`);
  });

  it('requires LITELLM_URL and REDIS_URL', () => {
    expect(problemsOf({})).toEqual([
      'LITELLM_URL: is required: the base URL of the LiteLLM proxy requests go to',
      'REDIS_URL: is required: the Redis holding the routing config and the rate-limit counters',
    ]);
  });

  it('refuses a REDIS_URL that is not redis:// or rediss://', () => {
    expect(problemsOf({ ...minimal, REDIS_URL: 'http://redis:6379' })).toEqual([
      'REDIS_URL: must be a redis:// or rediss:// URL, e.g. redis://redis.llm-tenancy.svc:6379',
    ]);
  });

  it('refuses MANAGEMENT_PORT equal to PORT', () => {
    expect(problemsOf({ ...minimal, PORT: '9000', MANAGEMENT_PORT: '9000' })).toEqual([
      'MANAGEMENT_PORT: must differ from PORT',
    ]);
    expect(problemsOf({ ...minimal, PORT: '8081' })).toEqual([
      'MANAGEMENT_PORT: must differ from PORT',
    ]);
  });

  it('reports the port clash alongside the other problems', () => {
    expect(
      problemsOf({ LITELLM_URL: minimal.LITELLM_URL, PORT: '9000', MANAGEMENT_PORT: '9000' }),
    ).toEqual([
      'REDIS_URL: is required: the Redis holding the routing config and the rate-limit counters',
      'MANAGEMENT_PORT: must differ from PORT',
    ]);
  });

  it('lets both ports be 0 (any free port, as tests use)', () => {
    const config = parseGatewayConfig({ ...minimal, PORT: '0', MANAGEMENT_PORT: '0' });
    expect(config.port).toBe(0);
    expect(config.managementPort).toBe(0);
  });
});

describe('parseSize', () => {
  it('reads plain bytes and suffixes, trimming spaces', () => {
    expect(parseSize(' 1048576 ')).toBe(1_048_576);
    expect(parseSize('3Ki')).toBe(3072);
    expect(parseSize('3G')).toBe(3e9);
  });

  it('is undefined for anything else', () => {
    for (const value of ['', 'Mi', '1 Mi', '1mi', '1MB', '1.5k', '-5', '0x10']) {
      expect(parseSize(value), value).toBeUndefined();
    }
  });
});

describe('describeGatewayConfig', () => {
  it('refuses proxies that are not addresses or CIDRs, and a key header the gateway forwards', () => {
    const problems = problemsOf({
      ...minimal,
      TRUSTED_PROXIES: '10.0.0.0/8, router.example.com, 10.0.0.0/33, ::1/129, 10.0.0.1/x',
      LITELLM_KEY_HEADER: 'User-Agent',
      BODY_TIMEOUT: '500ms',
    });
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('TRUSTED_PROXIES'))).toBe(
      'TRUSTED_PROXIES: "router.example.com", "10.0.0.0/33", "::1/129", "10.0.0.1/x": not an address or CIDR (like 10.128.0.0/14) nor loopback, linklocal, uniquelocal',
    );
    expect(problems).toContain('LITELLM_KEY_HEADER: must not be a header the gateway forwards');
    expect(problems).toContain('BODY_TIMEOUT: must be at least 1s');
    expect(problemsOf({ ...minimal, LITELLM_KEY_HEADER: 'x key' })).toEqual([
      'LITELLM_KEY_HEADER: must be an HTTP header name',
    ]);
  });

  it('shows durations readably and hides the Redis password', () => {
    const config = parseGatewayConfig({
      ...minimal,
      REDIS_URL: 'rediss://default:s3cret@redis.example.com:6380/1',
      HOST: '::',
    });
    const described = describeGatewayConfig(config);
    expect(JSON.stringify(described)).not.toContain('s3cret');
    expect(JSON.stringify(described)).not.toContain('default@');
    expect(described).toEqual({
      litellmUrl: 'http://litellm.litellm.svc:4000',
      redis: 'rediss://redis.example.com:6380/1',
      routingPrefix: 'llmtenancy:',
      listen: ':::8080',
      managementPort: 8081,
      bodyLimitBytes: 10 * 1024 * 1024,
      bodyTimeout: '1m',
      trustedProxies: [],
      upstreamConnectTimeout: '5s',
      upstreamHeadersTimeout: '10m',
      upstreamIdleTimeout: '5m',
      limitsWhenRedisDown: 'local',
      tpmReserveDefaultOutputTokens: 1024,
      negativeCacheTtl: '2s',
      shutdownGrace: '30s',
      logLevel: 'info',
      auditLog: 'stdout',
      auditWebhook: 'off',
      signin: {
        provider: 'off',
        autoProvision: true,
        autoCreateTeams: false,
        roleGroups: {},
        defaultRole: 'user',
        masterKey: 'off',
      },
    });
  });

  it('hides a password given without a user name', () => {
    expect(describeGatewayConfig(parseGatewayConfig(minimal)).redis).toBe(
      'redis://redis.llm-tenancy.svc:6379',
    );
  });
});
