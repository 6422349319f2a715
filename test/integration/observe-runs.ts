// Watches a namespace's PipelineRuns on the fake API the way any client would, and checks the queue
// invariants of concurrency.limit at every change the API server made, not at polled samples: how many runs
// were started and unfinished at once, in which order runs left Pending, and whether any left it twice.
import type { FakeKube } from '../fake-kube/server.js';

type Json = Record<string, any>;

export interface RunObserver {
  /** Runs in the order their Pending was lifted (the start patch took effect). */
  readonly startedOrder: readonly string[];
  /** Per run, how often a change lifted its Pending (1 each when nothing started twice). */
  readonly starts: ReadonlyMap<string, number>;
  /** The most runs started and unfinished after any single change. */
  readonly maxRunning: number;
  /** Names of runs whose Succeeded condition is True or False. */
  readonly finished: ReadonlySet<string>;
  stop(): void;
}

const PENDING = new Set(['PipelineRunPending', 'TaskRunPending']);
const pending = (run: Json | undefined) => PENDING.has(run?.spec?.status);
const done = (run: Json) =>
  (run.status?.conditions ?? []).some(
    (c: Json) => c.type === 'Succeeded' && (c.status === 'True' || c.status === 'False'),
  );

/** Opens the watch before the test creates anything, so the first event of every run is seen. */
export async function observeRuns(fake: FakeKube, namespace: string): Promise<RunObserver> {
  const abort = new AbortController();
  const response = await fetch(
    `${fake.url}/apis/tekton.dev/v1/namespaces/${namespace}/pipelineruns?watch=true`,
    { headers: { Authorization: 'Bearer test-token' }, signal: abort.signal },
  );
  if (response.status !== 200 || !response.body) throw new Error(`watch answered ${response.status}`);
  const runs = new Map<string, Json>();
  const startedOrder: string[] = [];
  const starts = new Map<string, number>();
  const finished = new Set<string>();
  let maxRunning = 0;
  const apply = (event: { type: string; object: Json }) => {
    const name = event.object.metadata.name as string;
    const before = runs.get(name);
    if (event.type === 'DELETED') runs.delete(name);
    else runs.set(name, event.object);
    if (event.type !== 'DELETED' && pending(before) && !pending(event.object)) {
      startedOrder.push(name);
      starts.set(name, (starts.get(name) ?? 0) + 1);
    }
    if (event.type !== 'DELETED' && done(event.object)) finished.add(name);
    const running = [...runs.values()].filter((r) => !pending(r) && !done(r)).length;
    maxRunning = Math.max(maxRunning, running);
  };
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== '') apply(JSON.parse(line) as { type: string; object: Json });
        }
      }
    } catch {
      // aborted by stop()
    }
  })();
  return {
    startedOrder,
    starts,
    get maxRunning() {
      return maxRunning;
    },
    finished,
    stop: () => abort.abort(),
  };
}
