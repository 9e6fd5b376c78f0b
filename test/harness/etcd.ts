// etcd as envtest runs it: one member, plain HTTP on a free loopback port, data on tmpfs
// with fsync off (nothing here must survive a crash; every fsync would cost milliseconds).
import getPort from 'get-port';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';

export interface Etcd {
  /** Client URL for kube-apiserver's --etcd-servers. */
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface EtcdOptions {
  binary: string;
  dataDir: string;
  logFile: string;
  timeoutMs?: number;
}

export async function startEtcd({
  binary,
  dataDir,
  logFile,
  timeoutMs = 30_000,
}: EtcdOptions): Promise<Etcd> {
  const url = `http://127.0.0.1:${await getPort({ host: '127.0.0.1' })}`;
  const proc = await startProcess({
    name: 'etcd',
    command: binary,
    logFile,
    args: [
      '--name=testenv',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      // Port 0: a single member never talks to peers, and a fixed 2380 would collide
      // with a second test bed (or a real etcd) on the same machine.
      '--listen-peer-urls=http://127.0.0.1:0',
      '--unsafe-no-fsync=true',
      // A lone member still waits one election timeout (1s by default) before it leads and
      // serves; with no peers to hear, short ticks cost nothing and save most of a second.
      '--heartbeat-interval=10',
      '--election-timeout=100',
      '--log-level=warn',
    ],
  });
  await waitUntilReady(
    proc,
    async () => {
      const res = await fetch(`${url}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    },
    { what: `${url}/health`, timeoutMs },
  );
  return { url, process: proc, stop: () => proc.stop() };
}
