// `npm run operator` (node operator/src/main.ts): the operator process. Reads its
// configuration from the environment (config.ts), connects to Kubernetes (KUBECONFIG or the
// pod's service account) and LiteLLM, builds the operator (build-operator.ts) and runs it
// until SIGTERM/SIGINT (exit 0) or a fatal error: bad configuration, a CRD that is not
// installed, a runnable that failed, leadership lost (exit 1, and Kubernetes restarts the pod
// clean). On a lost lease the manager has already refused further writes and aborted every
// reconcile; the exit does not wait for them, as controller-runtime's does not.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { buildOperator, OPERATOR_NAME, type Operator } from './build-operator.ts';
import { ConfigError, describeConfig, parseConfig, type OperatorConfig } from './config.ts';
import { loadKubeConfig, podNamespace } from './kube-config.ts';
import { masterKeyFromFile, type MasterKeySource } from './litellm/config.ts';
import { createLogger } from './runtime/logger.ts';

/** Start-up problems are for a human reading `kubectl logs`: one plain line each. */
function fail(message: string): number {
  process.stderr.write(`${OPERATOR_NAME}: ${message}\n`);
  return 1;
}

function masterKeyOf(config: OperatorConfig): MasterKeySource {
  const key = config.masterKey;
  if (key.from === 'env') return key.value;
  try {
    return masterKeyFromFile(key.path);
  } catch (err) {
    throw new ConfigError([
      `LITELLM_MASTER_KEY_FILE: cannot read the master key from ${key.path}: ${(err as Error).message}`,
    ]);
  }
}

async function main(): Promise<number> {
  let config: OperatorConfig;
  let masterKey: MasterKeySource;
  let kube: ReturnType<typeof loadKubeConfig>;
  try {
    config = parseConfig(process.env, {
      hostname: hostname(),
      podNamespace: podNamespace(),
      identitySuffix: randomBytes(3).toString('hex'),
    });
    masterKey = masterKeyOf(config);
    kube = loadKubeConfig();
  } catch (err) {
    return fail((err as Error).message);
  }

  const logger = createLogger({ level: config.logLevel });
  logger.info(
    { config: { ...describeConfig(config), kubeconfig: kube.source } },
    'operator configuration',
  );
  let operator: Operator;
  try {
    operator = await buildOperator(config, { kubeConfig: kube.kubeConfig, logger, masterKey });
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    logger.error({ err }, 'cannot reach the Kubernetes API server');
    return 1;
  }
  try {
    await operator.run(); // resolves after SIGTERM/SIGINT, once everything has stopped
    return 0;
  } catch {
    return 1; // the manager has logged why
  } finally {
    await operator.stop();
  }
}

// Exit explicitly: idle keep-alive sockets (LiteLLM, the API server) must not hold the
// process open after a clean stop.
process.exit(await main());
