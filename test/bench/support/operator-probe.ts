// Preloaded into the operator's process by the bench (node --expose-gc --import this): on
// SIGUSR2 it collects garbage and writes the process's own figures (memory after GC,
// event-loop utilisation so far) as JSON to BENCH_PROBE_FILE, so the bench can read heap and
// RSS of a process it does not run in. The operator's code is untouched by it.
import { renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

export interface OperatorProbe {
  seq: number;
  at: number;
  rss: number;
  heapUsed: number;
  /** V8's heap as reserved from the system (heapUsed plus free space V8 keeps). */
  heapTotal: number;
  external: number;
  /** Of external: ArrayBuffers and Buffers (sockets' and undici's buffers among them). */
  arrayBuffers: number;
  /** Bytes V8 holds per heap space (new_space: the young generation's semi-spaces). */
  heapSpaces: Record<string, number>;
  gcExposed: boolean;
  /** Cumulative since the process started (ms). */
  elu: { idle: number; active: number };
}

const file = process.env.BENCH_PROBE_FILE;
let seq = 0;
if (file) {
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const heapSpaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]),
    );
    const { idle, active } = performance.eventLoopUtilization();
    const probe: OperatorProbe = {
      seq: ++seq,
      at: Date.now(),
      rss,
      heapUsed,
      heapTotal,
      external,
      arrayBuffers,
      heapSpaces,
      gcExposed: typeof gc === 'function',
      elu: { idle, active },
    };
    // Written whole, then renamed: the bench never reads half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify(probe));
    renameSync(`${file}.tmp`, file);
  });
}
