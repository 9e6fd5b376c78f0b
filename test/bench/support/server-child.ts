// `node test/bench/support/server-child.ts upstream|bare|gateway`: one server of the gateway
// bench in a Node process of its own, so the load generator, the proxy under test and the
// upstream never share an event loop. Settings come from the environment:
//
//   upstream  the fake OpenAI server (test/fake-openai)
//   bare      the bare pass-through (bare-proxy.ts); UPSTREAM_URL
//   gateway   the gateway (gateway/src/server.ts, or BENCH_GATEWAY_MODULE); its own variables
//             (LITELLM_URL, REDIS_URL, ROUTING_PREFIX, …) read by parseGatewayConfig
//
// When the server is ready (the gateway: ready() resolved, routing config read), its URLs
// are written as JSON to BENCH_READY_FILE. SIGTERM closes it and exits normally, so a
// --cpu-prof profile gets written.
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { startFakeOpenAI } from '../../fake-openai/server.ts';
import { startBareProxy } from './bare-proxy.ts';

export interface ReadyFile {
  url: string;
  managementUrl?: string;
  pid: number;
}

/** The gateway's module API, as the bench uses it. */
interface GatewayModule {
  startGateway(config: unknown): Promise<{
    url: string;
    managementUrl: string;
    ready(timeoutMs?: number): Promise<boolean | void>;
    close(): Promise<void>;
  }>;
}
interface ConfigModule {
  parseGatewayConfig(env: NodeJS.ProcessEnv): unknown;
}

const kind = process.argv[2];
const readyFile = process.env.BENCH_READY_FILE;
if (!readyFile) throw new Error('BENCH_READY_FILE is not set');

let ready: ReadyFile;
let close: () => Promise<void>;
switch (kind) {
  case 'upstream': {
    const server = await startFakeOpenAI({
      port: 0,
      responseCost: process.env.FAKE_RESPONSE_COST,
    });
    // The fake keeps every request it received, for tests; millions of them here would grow
    // its heap (and its GC work) through the run. Forget them once a second.
    const requests = server.requests as unknown[];
    setInterval(() => (requests.length = 0), 1_000).unref();
    ready = { url: `http://127.0.0.1:${server.port}`, pid: process.pid };
    close = () => server.stop();
    break;
  }
  case 'bare': {
    const upstream = process.env.UPSTREAM_URL;
    if (!upstream) throw new Error('UPSTREAM_URL is not set');
    const proxy = await startBareProxy({ upstream });
    ready = { url: proxy.url, pid: process.pid };
    close = () => proxy.close();
    break;
  }
  case 'gateway': {
    const moduleUrl = process.env.BENCH_GATEWAY_MODULE
      ? pathToFileURL(process.env.BENCH_GATEWAY_MODULE).href
      : new URL('../../../gateway/src/server.ts', import.meta.url).href;
    const configUrl = new URL('config.ts', moduleUrl).href;
    const { startGateway } = (await import(moduleUrl)) as GatewayModule;
    const { parseGatewayConfig } = (await import(configUrl)) as ConfigModule;
    const gateway = await startGateway(parseGatewayConfig(process.env));
    if ((await gateway.ready(30_000)) === false) {
      throw new Error('the gateway did not get ready (Redis, routing config) within 30 s');
    }
    ready = { url: gateway.url, managementUrl: gateway.managementUrl, pid: process.pid };
    close = () => gateway.close();
    break;
  }
  default:
    throw new Error(`unknown server ${kind}: upstream, bare or gateway`);
}

process.once('SIGTERM', () => {
  const exit = () => process.exit(0);
  setTimeout(exit, 5_000).unref();
  close().then(exit, exit);
});
await writeFile(readyFile, JSON.stringify(ready));
