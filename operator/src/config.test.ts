import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, parseConfig, type OperatorConfig } from './config.ts';

const context = { hostname: 'node-1', podNamespace: undefined, identitySuffix: 'abcd' };
const minimal = {
  LITELLM_URL: 'http://litellm.litellm.svc:4000/',
  LITELLM_MASTER_KEY_FILE: '/var/run/secrets/litellm/master-key',
  LEADER_ELECTION_NAMESPACE: 'llm-tenancy',
  REDIS_URL: 'redis://:s3cret@redis.llm-tenancy.svc:6379',
  GATEWAY_URL: 'https://llm.apps.example.com/v1/',
};

function problemsOf(env: NodeJS.ProcessEnv, ctx = context): readonly string[] {
  try {
    parseConfig(env, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills in the defaults', () => {
    expect(parseConfig(minimal, context)).toEqual<OperatorConfig>({
      litellmUrl: 'http://litellm.litellm.svc:4000',
      masterKey: { from: 'file', path: '/var/run/secrets/litellm/master-key' },
      resyncIntervalMs: 300_000,
      groupGracePeriodMs: 3_600_000,
      groupSyncSelector: undefined,
      installationId: undefined,
      orphanCollection: 'dry-run',
      orphanCollectionIntervalMs: 600_000,
      modelCatalogRefreshIntervalMs: 60_000,
      spendSyncIntervalMs: 60_000,
      budgetAlertThresholds: [50, 75, 90, 100],
      budgetAlerts: { webhook: undefined, smtp: undefined },
      redisUrl: 'redis://:s3cret@redis.llm-tenancy.svc:6379',
      routingPrefix: 'llmtenancy:',
      routingCheckIntervalMs: 5_000,
      gatewayUrl: 'https://llm.apps.example.com/v1',
      healthPort: 8081,
      leaderElection: {
        namespace: 'llm-tenancy',
        leaseName: 'llm-tenancy-operator',
        identity: 'node-1_abcd',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      logLevel: 'info',
      auditLog: 'stdout',
    });
  });

  it('reads every setting', () => {
    const config = parseConfig(
      {
        LITELLM_URL: 'https://litellm.example.com/proxy',
        LITELLM_MASTER_KEY: 'sk-dev',
        RESYNC_INTERVAL: '90s',
        GROUP_GRACE_PERIOD: '0s',
        GROUP_SYNC_SELECTOR: 'llmtenancy.dev/team=true,env in (prod, dev),!legacy',
        INSTALLATION_ID: 'prod-eu-1',
        ORPHAN_COLLECTION: 'on',
        ORPHAN_COLLECTION_INTERVAL: '1h',
        MODEL_CATALOG_REFRESH_INTERVAL: '15s',
        SPEND_SYNC_INTERVAL: '2m',
        BUDGET_ALERT_THRESHOLDS: '80, 25,100',
        REDIS_URL: 'rediss://redis.example.com:6380/2',
        ROUTING_PREFIX: 'prod:',
        ROUTING_CHECK_INTERVAL: '2s',
        GATEWAY_URL: 'https://llm.example.com/v1',
        HEALTH_PORT: '9090',
        LEADER_ELECTION: 'true',
        POD_NAME: 'operator-7d9f-x2',
        POD_NAMESPACE: 'platform',
        LEADER_ELECTION_LEASE_NAME: 'my-lease',
        LEADER_ELECTION_LEASE_DURATION: '6s',
        LEADER_ELECTION_RENEW_DEADLINE: '4s',
        LEADER_ELECTION_RETRY_PERIOD: '500ms',
        LOG_LEVEL: 'DEBUG',
      },
      context,
    );
    expect(config).toMatchObject({
      litellmUrl: 'https://litellm.example.com/proxy',
      masterKey: { from: 'env', value: 'sk-dev' },
      resyncIntervalMs: 90_000,
      groupGracePeriodMs: 0,
      groupSyncSelector: 'llmtenancy.dev/team=true,env in (prod, dev),!legacy',
      installationId: 'prod-eu-1',
      orphanCollection: 'on',
      orphanCollectionIntervalMs: 3_600_000,
      modelCatalogRefreshIntervalMs: 15_000,
      spendSyncIntervalMs: 120_000,
      budgetAlertThresholds: [25, 80, 100],
      redisUrl: 'rediss://redis.example.com:6380/2',
      routingPrefix: 'prod:',
      routingCheckIntervalMs: 2_000,
      gatewayUrl: 'https://llm.example.com/v1',
      healthPort: 9090,
      leaderElection: {
        namespace: 'platform',
        leaseName: 'my-lease',
        identity: 'operator-7d9f-x2_abcd',
        leaseDurationMs: 6000,
        renewDeadlineMs: 4000,
        retryPeriodMs: 500,
      },
      logLevel: 'debug',
    });
  });

  it('takes the pod namespace for the lease, and needs none without election', () => {
    const { LEADER_ELECTION_NAMESPACE: _ns, ...withoutNamespace } = minimal;
    const inPod = parseConfig(withoutNamespace, { ...context, podNamespace: 'from-pod' });
    expect(inPod.leaderElection).toMatchObject({ namespace: 'from-pod' });
    expect(
      parseConfig({ ...withoutNamespace, LEADER_ELECTION: 'false' }, context).leaderElection,
    ).toBe(false);
  });

  it('syncs every Group with "*"', () => {
    expect(parseConfig({ ...minimal, GROUP_SYNC_SELECTOR: '*' }, context).groupSyncSelector).toBe(
      '',
    );
  });

  it('treats empty variables as unset', () => {
    const config = parseConfig(
      { ...minimal, RESYNC_INTERVAL: '', LITELLM_MASTER_KEY: '  ', LOG_LEVEL: '' },
      context,
    );
    expect(config).toMatchObject({ resyncIntervalMs: 300_000, logLevel: 'info' });
  });

  it('reports every problem at once, naming the variable', () => {
    const problems = problemsOf({
      LITELLM_URL: 'litellm:4000',
      RESYNC_INTERVAL: '300',
      ORPHAN_COLLECTION: 'yes',
      INSTALLATION_ID: 'not/an id',
      HEALTH_PORT: '70000',
      GROUP_SYNC_SELECTOR: 'team=,=x',
      LOG_LEVEL: 'loud',
      LEADER_ELECTION: 'maybe',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^LITELLM_URL: must be an http\(s\) URL/),
        'RESYNC_INTERVAL: "300" is not a duration (like 30s, 5m, 1h30m)',
        'ORPHAN_COLLECTION: must be off, dry-run or on',
        expect.stringMatching(/^INSTALLATION_ID: must be 1 to 63 letters/),
        'HEALTH_PORT: must be a port number (0 to 65535)',
        expect.stringMatching(/^GROUP_SYNC_SELECTOR: "=x" is not a label selector requirement/),
        expect.stringMatching(/^LOG_LEVEL: must be one of trace, debug/),
        'LEADER_ELECTION: must be true or false',
        expect.stringMatching(/^LITELLM_MASTER_KEY_FILE: is required/),
        expect.stringMatching(/^LEADER_ELECTION_NAMESPACE: is required outside a pod/),
        expect.stringMatching(/^REDIS_URL: is required/),
        expect.stringMatching(/^GATEWAY_URL: is required/),
      ]),
    );
    expect(problems).toHaveLength(12);
  });

  it.each([
    [{ LITELLM_URL: undefined }, /^LITELLM_URL: is required/],
    [{ LITELLM_MASTER_KEY: 'sk-x' }, /set one, not both/],
    [{ RESYNC_INTERVAL: '100ms' }, /^RESYNC_INTERVAL: must be at least 1s/],
    [
      { MODEL_CATALOG_REFRESH_INTERVAL: '500ms' },
      /^MODEL_CATALOG_REFRESH_INTERVAL: must be at least 1s/,
    ],
    [{ SPEND_SYNC_INTERVAL: '10ms' }, /^SPEND_SYNC_INTERVAL: must be at least 1s/],
    [
      { BUDGET_ALERT_THRESHOLDS: '50%,90%' },
      /^BUDGET_ALERT_THRESHOLDS: must be up to 10 percentages/,
    ],
    [{ BUDGET_ALERT_THRESHOLDS: '0,50' }, /^BUDGET_ALERT_THRESHOLDS: each must be 1 to 1000/],
    [
      { LEADER_ELECTION_LEASE_DURATION: '5s', LEADER_ELECTION_RENEW_DEADLINE: '5s' },
      /^LEADER_ELECTION_RENEW_DEADLINE: must be shorter than LEADER_ELECTION_LEASE_DURATION/,
    ],
    [{ LEADER_ELECTION_RETRY_PERIOD: '10s' }, /^LEADER_ELECTION_RETRY_PERIOD: must be shorter/],
    [{ LEADER_ELECTION_LEASE_NAME: 'Not_A_Name' }, /^LEADER_ELECTION_LEASE_NAME: must be/],
    [{ REDIS_URL: 'redis.svc:6379' }, /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ REDIS_URL: undefined }, /^REDIS_URL: is required/],
    [{ GATEWAY_URL: 'llm.example.com' }, /^GATEWAY_URL: must be an http\(s\) URL/],
    [{ ROUTING_PREFIX: 'has space' }, /^ROUTING_PREFIX: must be/],
  ])('rejects %j', (change, problem) => {
    const problems = problemsOf({ ...minimal, ...change });
    expect(problems).toEqual([expect.stringMatching(problem)]);
  });

  it('says in its message what is wrong', () => {
    expect(() => parseConfig({}, context)).toThrow(/invalid configuration:\n {2}- LITELLM_URL/);
  });
});

describe('describeConfig', () => {
  it('never shows the master key', () => {
    const config = parseConfig(
      { ...minimal, LITELLM_MASTER_KEY_FILE: undefined, LITELLM_MASTER_KEY: 'sk-very-secret' },
      context,
    );
    const described = JSON.stringify(describeConfig(config));
    expect(described).not.toContain('sk-very-secret');
    expect(described).not.toContain('s3cret');
    expect(describeConfig(config)).toMatchObject({
      masterKey: 'from LITELLM_MASTER_KEY',
      resyncInterval: '5m',
      modelCatalogRefreshInterval: '1m',
      spendSyncInterval: '1m',
      leaderElection: { lease: 'llm-tenancy/llm-tenancy-operator', leaseDuration: '15s' },
    });
  });
});

describe('budget alert settings', () => {
  it('are off by default', () => {
    expect(parseConfig(minimal, context).budgetAlerts).toEqual({
      webhook: undefined,
      smtp: undefined,
    });
    expect(describeConfig(parseConfig(minimal, context))).toMatchObject({
      budgetAlertWebhook: 'off',
      budgetAlertSmtp: 'off',
    });
  });

  it('read the webhook, and log its URL without credentials', () => {
    const config = parseConfig(
      {
        ...minimal,
        BUDGET_ALERT_WEBHOOK_URL: 'https://hook:t0ken@alerts.example.com/llm',
        BUDGET_ALERT_WEBHOOK_SECRET_FILE: '/var/run/secrets/webhook/secret',
        BUDGET_ALERT_WEBHOOK_FORMAT: 'slack',
      },
      context,
    );
    expect(config.budgetAlerts.webhook).toEqual({
      url: 'https://hook:t0ken@alerts.example.com/llm',
      secretFile: '/var/run/secrets/webhook/secret',
      format: 'slack',
    });
    const logged = JSON.stringify(describeConfig(config));
    expect(logged).not.toContain('t0ken');
    expect(logged).toContain('alerts.example.com');
  });

  it('read SMTP from a URL (smtps: TLS on 465) or from host, port and user', () => {
    const fromUrl = parseConfig(
      {
        ...minimal,
        BUDGET_ALERT_SMTP_URL: 'smtps://alerts%40example.com:pa%24s@mail.example.com',
        BUDGET_ALERT_SMTP_FROM: 'LLM budgets <alerts@example.com>',
      },
      context,
    );
    expect(fromUrl.budgetAlerts.smtp).toEqual({
      host: 'mail.example.com',
      port: 465,
      tls: 'tls',
      user: 'alerts@example.com',
      password: { from: 'url', value: 'pa$s' },
      from: 'LLM budgets <alerts@example.com>',
    });
    expect(JSON.stringify(describeConfig(fromUrl))).not.toContain('pa$s');
    const fromHost = parseConfig(
      {
        ...minimal,
        BUDGET_ALERT_SMTP_HOST: 'mail.example.com',
        BUDGET_ALERT_SMTP_USER: 'alerts',
        BUDGET_ALERT_SMTP_PASSWORD_FILE: '/var/run/secrets/smtp/password',
        BUDGET_ALERT_SMTP_FROM: 'alerts@example.com',
      },
      context,
    );
    expect(fromHost.budgetAlerts.smtp).toEqual({
      host: 'mail.example.com',
      port: 587,
      tls: 'starttls',
      user: 'alerts',
      password: { from: 'file', path: '/var/run/secrets/smtp/password' },
      from: 'alerts@example.com',
    });
  });

  it('refuse what cannot work', () => {
    expect(
      problemsOf({
        ...minimal,
        BUDGET_ALERT_WEBHOOK_URL: 'ftp://alerts.example.com',
        BUDGET_ALERT_WEBHOOK_FORMAT: 'xml',
        BUDGET_ALERT_SMTP_URL: 'smtp://mail.example.com',
        BUDGET_ALERT_SMTP_HOST: 'mail.example.com',
        BUDGET_ALERT_SMTP_TLS: 'maybe',
      }),
    ).toEqual([
      'BUDGET_ALERT_WEBHOOK_URL: must be an http(s) URL, e.g. https://alerts.example.com/llm-budgets',
      'BUDGET_ALERT_WEBHOOK_FORMAT: must be json or slack',
      'BUDGET_ALERT_SMTP_TLS: must be starttls, tls or none',
      'BUDGET_ALERT_SMTP_URL and BUDGET_ALERT_SMTP_HOST: set one, not both',
      'BUDGET_ALERT_SMTP_FROM: is required with SMTP (the sender address)',
    ]);
  });
});
