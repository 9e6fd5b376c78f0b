// Reading a V8 .cpuprofile (node --cpu-prof): self time by function and by where the code
// lives (a package, a Node internal module, the gateway's own files), for a printed "where
// does the time go". Self time of a sample = the time until the next sample.
import { readFile } from 'node:fs/promises';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the profile's busy time (everything but "(idle)"). */
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** True when only the samples inside the given window were counted. */
  window: boolean;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: SelfTime[];
  places: SelfTime[];
  /** Self time (ms) of every place, idle left out. */
  allPlaces: Record<string, number>;
}

/** Short location: node:internal/…, package name, or a path relative to the repository. */
export function placeOf(url: string, root: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return path.startsWith(root) ? path.slice(root.length) : path;
}

/**
 * Self time in `file`. With `window` (µs on the profile's clock, CLOCK_MONOTONIC on Linux:
 * process.hrtime.bigint() / 1000n in any process), only samples inside it count, when the
 * window lies inside the profile; otherwise all do (and `window` in the result is false).
 */
export async function summarizeProfile(
  file: string,
  root: string,
  top = 25,
  window?: { from: number; to: number },
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  const stamps = profile.timeDeltas.map((d) => (t += d));
  const windowed =
    window !== undefined && window.from >= profile.startTime && window.to <= profile.endTime;
  profile.samples.forEach((id, i) => {
    const at = stamps[i]!;
    if (windowed && (at < window.from || at > window.to)) return;
    const next = stamps[i + 1] ?? profile.endTime;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next - at));
  });

  const fn = new Map<string, { name: string; where: string; us: number }>();
  const place = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = placeOf(frame.url, root);
    const name = frame.functionName || '(anonymous)';
    const at = frame.url ? `${where}:${frame.lineNumber + 1}` : where;
    const key = `${name} ${at}`;
    const entry = fn.get(key) ?? { name, where: at, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    const placeKey = frame.url ? where : name; // (garbage collector), (program), natives
    place.set(placeKey, (place.get(placeKey) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const share = (us: number) => (busyUs > 0 ? us / busyUs : Number.NaN);
  return {
    file,
    window: windowed,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: share(e.us) })),
    places: [...place]
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(([where, us]) => ({ name: where, where, ms: us / 1000, share: share(us) })),
    allPlaces: Object.fromEntries([...place].map(([where, us]) => [where, us / 1000])),
  };
}
