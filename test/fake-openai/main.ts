// `node test/fake-openai/main.ts [port]`: the fake OpenAI upstream on its own (PORT or the
// first argument; a free port by default). Ctrl-C stops it.
import { startFakeOpenAI } from './server.ts';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const server = await startFakeOpenAI({ port });
console.info(`fake OpenAI listening: ${server.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
