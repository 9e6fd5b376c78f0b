// `npm run gateway`: the gateway with its configuration from the environment (config.ts).
// SIGTERM / SIGINT stop it gracefully (server.ts); a second signal exits at once.
import { ConfigError, describeGatewayConfig, parseGatewayConfig } from './config.ts';
import { createGatewayLogger } from './observability/logger.ts';
import { startGateway } from './server.ts';

let config;
try {
  config = parseGatewayConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
const logger = createGatewayLogger(config.logLevel);
logger.info({ config: describeGatewayConfig(config) }, 'starting llm-tenancy gateway');
const gateway = await startGateway(config, { logger });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'failed to stop cleanly');
        process.exit(1);
      },
    );
  });
}
