// The operator's configuration, from environment variables only (the Helm chart sets them),
// validated with zod in one pass so a bad deployment hears about every problem at once.
// An empty variable counts as unset: Kubernetes manifests often carry `value: ""`.
//
//   LITELLM_URL                      base URL of the LiteLLM proxy (required)
//   LITELLM_MASTER_KEY_FILE          a file holding the master key (a mounted Secret), or
//   LITELLM_MASTER_KEY               the key itself (development); exactly one of the two
//   REDIS_URL                        the Redis the gateway reads its routing config from
//                                    (required; redis://[:password@]host:port[/db], rediss://)
//   ROUTING_PREFIX                   prefix of the routing config's Redis keys (llmtenancy:)
//   ROUTING_CHECK_INTERVAL           how often Redis is checked for a lost config (5s)
//   GATEWAY_URL                      the gateway's OpenAI base URL, written into every key's
//                                    Secret (required), e.g. https://llm.apps.example.com/v1
//   RESYNC_INTERVAL                  how often every object is compared with LiteLLM (5m)
//   GROUP_GRACE_PERIOD               how long an emptied or vanished group keeps its users (1h)
//   GROUP_SYNC_SELECTOR              label selector of the OpenShift Groups that get a Team;
//                                    "*" for every Group; unset: group sync is off
//   INSTALLATION_ID                  stamped into every LiteLLM object this installation makes
//                                    (the kube-system namespace's uid, see installation.ts)
//   ORPHAN_COLLECTION                off | dry-run | on (dry-run)
//   ORPHAN_COLLECTION_INTERVAL       time between orphan collection passes (10m)
//   MODEL_CATALOG_REFRESH_INTERVAL   how often LiteLLM's models are read (GET /model/info) (60s)
//   SPEND_SYNC_INTERVAL              how often spend and budgets are read from LiteLLM into
//                                    status (bulk lists; + up to 10 % jitter) (60s)
//   BUDGET_ALERT_THRESHOLDS          percentages of a budget that record a BudgetThresholdReached
//                                    Event, for objects without spec.limits.alertThresholds
//                                    (50,75,90,100)
//   BUDGET_ALERT_WEBHOOK_URL         where budget alerts are POSTed (JSON); unset: no webhook
//   BUDGET_ALERT_WEBHOOK_SECRET_FILE a file holding the HMAC-SHA256 signing secret (re-read
//                                    every 10 s); unset: requests are not signed
//   BUDGET_ALERT_WEBHOOK_FORMAT      json | slack ({"text": ...}) (json)
//   BUDGET_ALERT_SMTP_URL            smtp://[user[:password]@]host[:port] or smtps://; or
//   BUDGET_ALERT_SMTP_HOST           the host, with BUDGET_ALERT_SMTP_PORT (587, 465 with tls),
//                                    BUDGET_ALERT_SMTP_USER and BUDGET_ALERT_SMTP_PASSWORD_FILE;
//                                    unset: no e-mail
//   BUDGET_ALERT_SMTP_TLS            starttls | tls | none (starttls; smtps:// means tls)
//   BUDGET_ALERT_SMTP_FROM           the sender address (required with SMTP)
//   HEALTH_PORT                      port of /healthz, /readyz and /metrics (8081)
//   LEADER_ELECTION                  true | false (true)
//   LEADER_ELECTION_NAMESPACE        namespace of the Lease (POD_NAMESPACE, or the pod's own)
//   LEADER_ELECTION_LEASE_NAME       (llm-tenancy-operator)
//   LEADER_ELECTION_LEASE_DURATION   (15s), LEADER_ELECTION_RENEW_DEADLINE (10s),
//   LEADER_ELECTION_RETRY_PERIOD     (2s): client-go's defaults
//   POD_NAME                         the leader identity (else the host name), plus a suffix
//   LOG_LEVEL                        trace | debug | info | warn | error | fatal | silent (info)
//   AUDIT_LOG                        where audit records go: stdout, or a file path (stdout);
//                                    README "Audit trail"
//   AUDIT_WEBHOOK_URL                a copy of every audit record, POSTed in signed batches;
//                                    unset: no webhook (README "Audit trail")
//   AUDIT_WEBHOOK_SECRET_FILE        a file holding its HMAC-SHA256 signing secret (re-read)
import { z } from 'zod';
import { formatDuration } from '../../contracts/config/duration.ts';
import type { AuditLogDestination } from '../../contracts/audit/audit-log.ts';
import { describeAuditTrail, type AuditWebhookConfig } from '../../contracts/audit/audit-trail.ts';
import {
  auditTrailConfig,
  auditTrailFields,
  ConfigError,
  LOG_LEVELS,
  bool,
  duration,
  httpUrl,
  logLevel,
  optionalHttpUrl,
  port,
  problemsOf,
  redisUrl,
  routingPrefix,
  text,
  unsetIfEmpty,
  type LogLevel,
} from '../../contracts/config/env-fields.ts';
import { labelSelectorProblem } from './label-selector.ts';
import { redactUrl } from '../../contracts/config/redact-url.ts';
import type { SmtpTls } from './controllers/spend/alerts/email-sink.ts';
import type { WebhookFormat } from './controllers/spend/alerts/webhook-sink.ts';

export { ConfigError, LOG_LEVELS, type LogLevel };

export type OrphanCollection = 'off' | 'dry-run' | 'on';

export type MasterKeyConfig = { from: 'file'; path: string } | { from: 'env'; value: string };

export interface BudgetAlertWebhookConfig {
  url: string;
  secretFile: string | undefined;
  format: WebhookFormat;
}

export interface BudgetAlertSmtpConfig {
  host: string;
  port: number;
  tls: SmtpTls;
  user: string | undefined;
  password: { from: 'file'; path: string } | { from: 'url'; value: string } | undefined;
  from: string;
}

export interface BudgetAlertsConfig {
  webhook: BudgetAlertWebhookConfig | undefined;
  smtp: BudgetAlertSmtpConfig | undefined;
}

export interface LeaderElectionSettings {
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface OperatorConfig {
  litellmUrl: string;
  masterKey: MasterKeyConfig;
  resyncIntervalMs: number;
  groupGracePeriodMs: number;
  /** undefined: group sync off; "": every Group. */
  groupSyncSelector: string | undefined;
  /** undefined: the kube-system namespace's uid (installation.ts). */
  installationId: string | undefined;
  orphanCollection: OrphanCollection;
  orphanCollectionIntervalMs: number;
  modelCatalogRefreshIntervalMs: number;
  spendSyncIntervalMs: number;
  /** Ascending, distinct percentages. */
  budgetAlertThresholds: number[];
  budgetAlerts: BudgetAlertsConfig;
  redisUrl: string;
  routingPrefix: string;
  routingCheckIntervalMs: number;
  gatewayUrl: string;
  healthPort: number;
  leaderElection: LeaderElectionSettings | false;
  logLevel: LogLevel;
  /** AUDIT_LOG: where audit records go. */
  auditLog: AuditLogDestination;
  /** AUDIT_WEBHOOK_URL, AUDIT_WEBHOOK_SECRET_FILE: a copy of the records by webhook. */
  auditWebhook?: AuditWebhookConfig;
}

/** What the environment cannot tell: the host, and the namespace a pod runs in. */
export interface ConfigContext {
  hostname: string;
  /** The service account's namespace when running in a pod. */
  podNamespace?: string;
  /** Appended to the identity so two processes never share one. */
  identitySuffix: string;
}

const second = { ms: 1000, what: '1s' };
const EVERY_GROUP = '*';
const millisecond = { ms: 1, what: '1ms' };

const Env = z.object({
  LITELLM_URL: httpUrl('the base URL of the LiteLLM proxy', 'http://litellm.litellm.svc:4000'),
  REDIS_URL: redisUrl('the Redis the gateway reads its routing config from'),
  ROUTING_PREFIX: routingPrefix(),
  ROUTING_CHECK_INTERVAL: duration('5s', { ms: 100, what: '100ms' }),
  GATEWAY_URL: httpUrl(
    "the gateway's OpenAI base URL, written into every key's Secret",
    'https://llm.apps.example.com/v1',
  ),
  RESYNC_INTERVAL: duration('5m', second),
  GROUP_GRACE_PERIOD: duration('1h', { ms: 0, what: '0s' }),
  GROUP_SYNC_SELECTOR: text()
    .superRefine((value, ctx) => {
      const problem =
        value === undefined || value === EVERY_GROUP ? undefined : labelSelectorProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    // The empty label selector selects everything, but an empty variable means "unset".
    .transform((value) => (value === EVERY_GROUP ? '' : value)),
  // A label value's shape: a namespace uid fits, and it reads well in LiteLLM's metadata.
  INSTALLATION_ID: text().pipe(
    z
      .string()
      .regex(
        /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/,
        'must be 1 to 63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
      )
      .optional(),
  ),
  ORPHAN_COLLECTION: z.preprocess(
    unsetIfEmpty,
    z.enum(['off', 'dry-run', 'on'], { message: 'must be off, dry-run or on' }).default('dry-run'),
  ),
  ORPHAN_COLLECTION_INTERVAL: duration('10m', second),
  MODEL_CATALOG_REFRESH_INTERVAL: duration('60s', second),
  SPEND_SYNC_INTERVAL: duration('60s', second),
  BUDGET_ALERT_THRESHOLDS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(
        /^\s*[0-9]{1,4}(\s*,\s*[0-9]{1,4}){0,9}\s*$/,
        'must be up to 10 percentages separated by commas, e.g. 50,75,90,100',
      )
      .transform((list) => [...new Set(list.split(',').map(Number))].sort((a, b) => a - b))
      .refine((list) => list.every((p) => p >= 1 && p <= 1000), 'each must be 1 to 1000')
      .default([50, 75, 90, 100]),
  ),
  BUDGET_ALERT_WEBHOOK_URL: optionalHttpUrl('https://alerts.example.com/llm-budgets'),
  BUDGET_ALERT_WEBHOOK_SECRET_FILE: text(),
  BUDGET_ALERT_WEBHOOK_FORMAT: z.preprocess(
    unsetIfEmpty,
    z.enum(['json', 'slack'], { message: 'must be json or slack' }).default('json'),
  ),
  BUDGET_ALERT_SMTP_URL: text().refine(
    (v) => v === undefined || (/^smtps?:\/\/[^/]/.test(v) && URL.canParse(v)),
    'must be an smtp:// or smtps:// URL, e.g. smtp://alerts@mail.example.com:587',
  ),
  BUDGET_ALERT_SMTP_HOST: text(),
  BUDGET_ALERT_SMTP_PORT: z.preprocess(unsetIfEmpty, port(0).optional()),
  BUDGET_ALERT_SMTP_USER: text(),
  BUDGET_ALERT_SMTP_PASSWORD_FILE: text(),
  BUDGET_ALERT_SMTP_TLS: z.preprocess(
    unsetIfEmpty,
    z.enum(['starttls', 'tls', 'none'], { message: 'must be starttls, tls or none' }).optional(),
  ),
  BUDGET_ALERT_SMTP_FROM: text().refine(
    (v) => v === undefined || /^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(v),
    'must be an e-mail address, e.g. llm-budgets@example.com or "LLM budgets <llm-budgets@example.com>"',
  ),
  HEALTH_PORT: port(8081),
  LEADER_ELECTION: bool(true),
  LEADER_ELECTION_NAMESPACE: text(),
  LEADER_ELECTION_LEASE_NAME: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes object name')
      .default('llm-tenancy-operator'),
  ),
  LEADER_ELECTION_LEASE_DURATION: duration('15s', millisecond),
  LEADER_ELECTION_RENEW_DEADLINE: duration('10s', millisecond),
  LEADER_ELECTION_RETRY_PERIOD: duration('2s', millisecond),
  POD_NAME: text(),
  POD_NAMESPACE: text(),
  LOG_LEVEL: logLevel(),
  ...auditTrailFields(),
});

/** The configuration in `env`; throws ConfigError listing every problem. */
export function parseConfig(env: NodeJS.ProcessEnv, context: ConfigContext): OperatorConfig {
  const parsed = Env.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  // The checks across variables read the raw values too, so one run reports everything.
  const raw = (name: string) => {
    const value = unsetIfEmpty(env[name]);
    return typeof value === 'string' ? value.trim() : undefined;
  };

  let masterKey: MasterKeyConfig | undefined;
  const keyFile = raw('LITELLM_MASTER_KEY_FILE');
  const key = raw('LITELLM_MASTER_KEY');
  if (key && keyFile) {
    problems.push('LITELLM_MASTER_KEY and LITELLM_MASTER_KEY_FILE: set one, not both');
  } else if (keyFile) {
    masterKey = { from: 'file', path: keyFile };
  } else if (key) {
    masterKey = { from: 'env', value: key };
  } else {
    problems.push(
      'LITELLM_MASTER_KEY_FILE: is required (a file holding the LiteLLM master key, e.g. a mounted Secret), or set LITELLM_MASTER_KEY',
    );
  }

  const electionOn = parsed.success
    ? parsed.data.LEADER_ELECTION
    : raw('LEADER_ELECTION') !== 'false';
  const namespace =
    raw('LEADER_ELECTION_NAMESPACE') ?? raw('POD_NAMESPACE') ?? context.podNamespace;
  if (electionOn && !namespace) {
    problems.push(
      'LEADER_ELECTION_NAMESPACE: is required outside a pod (the namespace of the Lease), or set LEADER_ELECTION=false to run a single replica',
    );
  }
  if (parsed.success && electionOn) {
    const e = parsed.data;
    if (!(e.LEADER_ELECTION_RENEW_DEADLINE < e.LEADER_ELECTION_LEASE_DURATION)) {
      problems.push(
        'LEADER_ELECTION_RENEW_DEADLINE: must be shorter than LEADER_ELECTION_LEASE_DURATION',
      );
    }
    if (!(e.LEADER_ELECTION_RETRY_PERIOD < e.LEADER_ELECTION_RENEW_DEADLINE)) {
      problems.push(
        'LEADER_ELECTION_RETRY_PERIOD: must be shorter than LEADER_ELECTION_RENEW_DEADLINE',
      );
    }
  }
  const smtpUrl = raw('BUDGET_ALERT_SMTP_URL');
  const smtpHost = raw('BUDGET_ALERT_SMTP_HOST');
  if (smtpUrl && smtpHost)
    problems.push('BUDGET_ALERT_SMTP_URL and BUDGET_ALERT_SMTP_HOST: set one, not both');
  if ((smtpUrl || smtpHost) && !raw('BUDGET_ALERT_SMTP_FROM'))
    problems.push('BUDGET_ALERT_SMTP_FROM: is required with SMTP (the sender address)');
  if (!parsed.success || problems.length > 0 || !masterKey) throw new ConfigError(problems);

  const e = parsed.data;
  return {
    litellmUrl: e.LITELLM_URL.replace(/\/+$/, ''),
    masterKey,
    resyncIntervalMs: e.RESYNC_INTERVAL,
    groupGracePeriodMs: e.GROUP_GRACE_PERIOD,
    groupSyncSelector: e.GROUP_SYNC_SELECTOR,
    installationId: e.INSTALLATION_ID,
    orphanCollection: e.ORPHAN_COLLECTION,
    orphanCollectionIntervalMs: e.ORPHAN_COLLECTION_INTERVAL,
    modelCatalogRefreshIntervalMs: e.MODEL_CATALOG_REFRESH_INTERVAL,
    spendSyncIntervalMs: e.SPEND_SYNC_INTERVAL,
    budgetAlertThresholds: e.BUDGET_ALERT_THRESHOLDS,
    budgetAlerts: {
      webhook: e.BUDGET_ALERT_WEBHOOK_URL
        ? {
            url: e.BUDGET_ALERT_WEBHOOK_URL,
            secretFile: e.BUDGET_ALERT_WEBHOOK_SECRET_FILE,
            format: e.BUDGET_ALERT_WEBHOOK_FORMAT,
          }
        : undefined,
      smtp: smtpOf(e),
    },
    redisUrl: e.REDIS_URL,
    routingPrefix: e.ROUTING_PREFIX,
    routingCheckIntervalMs: e.ROUTING_CHECK_INTERVAL,
    gatewayUrl: e.GATEWAY_URL.replace(/\/+$/, ''),
    healthPort: e.HEALTH_PORT,
    leaderElection: electionOn
      ? {
          namespace: namespace!,
          leaseName: e.LEADER_ELECTION_LEASE_NAME,
          identity: `${e.POD_NAME ?? context.hostname}_${context.identitySuffix}`,
          leaseDurationMs: e.LEADER_ELECTION_LEASE_DURATION,
          renewDeadlineMs: e.LEADER_ELECTION_RENEW_DEADLINE,
          retryPeriodMs: e.LEADER_ELECTION_RETRY_PERIOD,
        }
      : false,
    logLevel: e.LOG_LEVEL,
    ...auditTrailConfig(e),
  };
}

/** The configuration as logged at start: durations readable, the master key never. */
export function describeConfig(config: OperatorConfig): Record<string, unknown> {
  const election = config.leaderElection;
  const { webhook, smtp } = config.budgetAlerts;
  return {
    litellmUrl: config.litellmUrl,
    masterKey:
      config.masterKey.from === 'file'
        ? `from file ${config.masterKey.path}`
        : 'from LITELLM_MASTER_KEY',
    resyncInterval: formatDuration(config.resyncIntervalMs),
    groupGracePeriod: formatDuration(config.groupGracePeriodMs),
    groupSyncSelector:
      config.groupSyncSelector === undefined
        ? 'off'
        : config.groupSyncSelector === ''
          ? 'every Group'
          : config.groupSyncSelector,
    installationId: config.installationId ?? 'the kube-system namespace uid',
    orphanCollection: config.orphanCollection,
    orphanCollectionInterval: formatDuration(config.orphanCollectionIntervalMs),
    modelCatalogRefreshInterval: formatDuration(config.modelCatalogRefreshIntervalMs),
    spendSyncInterval: formatDuration(config.spendSyncIntervalMs),
    budgetAlertThresholds: config.budgetAlertThresholds.join(','),
    budgetAlertWebhook: webhook
      ? {
          url: redactUrl(webhook.url),
          format: webhook.format,
          signing: webhook.secretFile ? `secret from file ${webhook.secretFile}` : 'off',
        }
      : 'off',
    budgetAlertSmtp: smtp
      ? {
          server: `${smtp.host}:${smtp.port}`,
          tls: smtp.tls,
          user: smtp.user ?? 'none',
          password:
            smtp.password?.from === 'file'
              ? `from file ${smtp.password.path}`
              : smtp.password
                ? 'from BUDGET_ALERT_SMTP_URL'
                : 'none',
          from: smtp.from,
        }
      : 'off',
    redis: redactUrl(config.redisUrl),
    routingPrefix: config.routingPrefix,
    routingCheckInterval: formatDuration(config.routingCheckIntervalMs),
    gatewayUrl: config.gatewayUrl,
    healthPort: config.healthPort,
    leaderElection: election
      ? {
          lease: `${election.namespace}/${election.leaseName}`,
          identity: election.identity,
          leaseDuration: formatDuration(election.leaseDurationMs),
          renewDeadline: formatDuration(election.renewDeadlineMs),
          retryPeriod: formatDuration(election.retryPeriodMs),
        }
      : 'off',
    logLevel: config.logLevel,
    ...describeAuditTrail(config),
  };
}

/** The SMTP settings from a URL or from host, port and user; undefined: no e-mail. */
function smtpOf(e: z.infer<typeof Env>): BudgetAlertSmtpConfig | undefined {
  const url = e.BUDGET_ALERT_SMTP_URL ? new URL(e.BUDGET_ALERT_SMTP_URL) : undefined;
  const host = url ? url.hostname.replace(/^\[|\]$/g, '') : e.BUDGET_ALERT_SMTP_HOST;
  if (!host || !e.BUDGET_ALERT_SMTP_FROM) return undefined;
  const tls = e.BUDGET_ALERT_SMTP_TLS ?? (url?.protocol === 'smtps:' ? 'tls' : 'starttls');
  const port =
    (url?.port ? Number(url.port) : undefined) ??
    e.BUDGET_ALERT_SMTP_PORT ??
    (tls === 'tls' ? 465 : 587);
  const user = url?.username ? decodeURIComponent(url.username) : e.BUDGET_ALERT_SMTP_USER;
  const password = e.BUDGET_ALERT_SMTP_PASSWORD_FILE
    ? { from: 'file' as const, path: e.BUDGET_ALERT_SMTP_PASSWORD_FILE }
    : url?.password
      ? { from: 'url' as const, value: decodeURIComponent(url.password) }
      : undefined;
  return { host, port, tls, user, password, from: e.BUDGET_ALERT_SMTP_FROM };
}
