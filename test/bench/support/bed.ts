// The integration test bed (test/harness/test-bed.ts) for a bench, failing with a message
// that says what is missing instead of a bare stack trace.
import { startTestBed, type TestBed, type TestBedOptions } from '../../harness/test-bed.ts';

export class BedUnavailableError extends Error {
  override readonly name = 'BedUnavailableError';
}

const REQUIREMENTS = `A bench runs the integration test bed, which needs:
  - kube-apiserver and etcd: from $KUBEBUILDER_ASSETS when set, otherwise from
    ~/.cache/llm-tenancy/kube/, built once by test/harness/bin/build-kube-binaries.sh
    (needs Go and the Go module proxy; about ten minutes on two cores);
  - openssl and redis-server on PATH (apt-get install openssl redis-server).`;

export async function startBenchBed(options: TestBedOptions): Promise<TestBed> {
  try {
    return await startTestBed(options);
  } catch (err) {
    const causes = err instanceof AggregateError ? err.errors : [err];
    const detail = causes.map((c) => `  - ${(c as Error).message ?? String(c)}`).join('\n');
    throw new BedUnavailableError(`the test bed could not start:\n${detail}\n\n${REQUIREMENTS}`, {
      cause: err,
    });
  }
}
