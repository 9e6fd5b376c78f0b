// `node test/litellm-server/main.ts`: the LiteLLM-compatible test server on its own, with a
// fake OpenAI upstream, for `npm run dev` and manual poking.
//
//   PORT                 default 4000
//   LITELLM_MASTER_KEY   default sk-dev-master-key-0000
//   LITELLM_MODELS       comma-separated model names, default gpt-test,granite-3-8b,emb-test
//   LITELLM_LICENSED     1: behave as with an Enterprise licence
import { startLiteLLMServer } from './server.ts';

const server = await startLiteLLMServer({
  port: Number(process.env.PORT ?? 4000),
  host: process.env.HOST ?? '127.0.0.1',
  masterKey: process.env.LITELLM_MASTER_KEY ?? 'sk-dev-master-key-0000',
  models: (process.env.LITELLM_MODELS ?? 'gpt-test,granite-3-8b,emb-test')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  licensed: process.env.LITELLM_LICENSED === '1',
  logger: process.env.LOG_REQUESTS === '1',
});
console.info(
  `LiteLLM test server listening: ${server.url} (upstream ${server.upstream?.url}); faults: POST ${server.url}/__test/faults`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
