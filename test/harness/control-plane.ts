// etcd + kube-apiserver, the way envtest's ControlPlane starts them: binaries found, PKI
// made, etcd started and healthy, then the apiserver until /readyz. Logs and certificates
// live in a temp dir that is kept when startup fails (the error points into it); etcd's
// data lives on tmpfs and is always removed.
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { onExit } from 'signal-exit';
import { makePki } from './certs.ts';
import { startEtcd, type Etcd } from './etcd.ts';
import { startKubeApiServer, type KubeApiServer } from './kube-apiserver.ts';
import { findKubeBinaries, type KubeBinaries } from './kube-binaries.ts';

export interface ControlPlane {
  url: string;
  /** etcd's client URL (plain HTTP on loopback), for tests that act on storage directly. */
  etcdUrl: string;
  kubeConfig: KubeConfig;
  binaries: KubeBinaries;
  /** Temp dir with certificates and the etcd / kube-apiserver logs. */
  dir: string;
  /** Milliseconds from starting etcd to the apiserver's /readyz answering ok. */
  startupMs: number;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags. */
  apiServerArgs?: readonly string[];
}

/** tmpfs when the machine has one: etcd writes there on every request. */
const fastDir = () => (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = await findKubeBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-testenv-'));
  const dataDir = await mkdtemp(join(fastDir(), 'llm-tenancy-etcd-'));
  const removeDirs = (all: boolean) => {
    rmSync(dataDir, { recursive: true, force: true });
    if (all) rmSync(dir, { recursive: true, force: true });
  };
  const removeExitHook = onExit(() => removeDirs(true));

  let etcd: Etcd | undefined;
  let apiServer: KubeApiServer | undefined;
  const stopProcesses = async () => {
    await apiServer?.stop();
    await etcd?.stop();
  };
  try {
    await mkdir(join(dir, 'certs'));
    const pki = await makePki(join(dir, 'certs'));
    const started = performance.now();
    etcd = await startEtcd({ binary: binaries.etcd, dataDir, logFile: join(dir, 'etcd.log') });
    apiServer = await startKubeApiServer({
      binary: binaries.kubeApiServer,
      etcdUrl: etcd.url,
      pki,
      logFile: join(dir, 'kube-apiserver.log'),
      extraArgs: options.apiServerArgs,
    });
    const startupMs = Math.round(performance.now() - started);
    return {
      url: apiServer.url,
      etcdUrl: etcd.url,
      kubeConfig: apiServer.kubeConfig,
      binaries,
      dir,
      startupMs,
      async stop() {
        await stopProcesses();
        removeExitHook();
        removeDirs(true);
      },
    };
  } catch (err) {
    await stopProcesses();
    removeExitHook();
    removeDirs(false);
    throw err;
  }
}
