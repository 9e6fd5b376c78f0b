// The operator as the integration suites run it: buildOperator (operator/src/build-operator.ts),
// the same wiring main.ts runs, in this process, with what a suite injects (its LiteLLM
// client, logger, label selectors, parts), and started until every cache has synced.
import { pino } from 'pino';
import {
  buildOperator,
  type Operator,
  type OperatorDeps,
} from '../../../operator/src/build-operator.ts';
import type { OperatorConfig } from '../../../operator/src/config.ts';
import { TEST_INSTALLATION_ID } from './installation.ts';

export interface InProcessOperator extends Operator {
  /** What run() returned: rejects on a fatal error (already caught, so it is never unhandled). */
  running: Promise<void>;
}

/** A configuration as parseConfig would give it, with test defaults, and `overrides`. */
export function testOperatorConfig(overrides: Partial<OperatorConfig> = {}): OperatorConfig {
  return {
    litellmUrl: 'http://litellm.invalid',
    masterKey: { from: 'env', value: 'unused: the suites inject their LiteLLM client' },
    resyncIntervalMs: 2_000,
    groupGracePeriodMs: 60_000,
    groupSyncSelector: undefined,
    installationId: TEST_INSTALLATION_ID,
    orphanCollection: 'off',
    orphanCollectionIntervalMs: 600_000,
    modelCatalogRefreshIntervalMs: 60_000,
    spendSyncIntervalMs: 60_000,
    budgetAlertThresholds: [50, 75, 90, 100],
    budgetAlerts: { webhook: undefined, smtp: undefined },
    redisUrl: 'redis://127.0.0.1:1',
    routingPrefix: 'llmtenancy:',
    routingCheckIntervalMs: 5_000,
    gatewayUrl: 'http://gateway.test/v1',
    healthPort: 0,
    leaderElection: false,
    logLevel: 'silent',
    auditLog: 'stdout',
    ...overrides,
  };
}

/** Builds and starts the operator; resolves once its caches have synced. */
export async function startInProcessOperator(
  config: OperatorConfig,
  deps: Omit<OperatorDeps, 'logger'> & Partial<Pick<OperatorDeps, 'logger'>>,
): Promise<InProcessOperator> {
  const operator = await buildOperator(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    healthPort: false,
    handleSignals: false,
    ...deps,
  });
  const running = operator.run();
  running.catch(() => {});
  const { manager } = operator;
  const deadline = Date.now() + 30_000;
  while (!manager.readiness().ready) {
    if (Date.now() > deadline)
      throw new Error(`operator not ready: ${manager.readiness().reasons.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { ...operator, running };
}
