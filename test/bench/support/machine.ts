// The machine a bench ran on, printed above its table and stored with its JSON: figures
// from different machines (or from a busy one: see loadAverage) are not comparable.
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryBytes: number;
  os: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function describeMachine(m: MachineInfo): string {
  const gib = (m.totalMemoryBytes / 2 ** 30).toFixed(1);
  return `${m.cpuModel} × ${m.cpus} CPUs, ${gib} GiB RAM, ${m.os}, node ${m.node}, load average ${m.loadAverage.join(' ')} at start`;
}
