// Runs one Retina-compatible capture from plain Node with just a kubeconfig, then downloads it.
//
//   npx tsx examples/capture.ts --kubeconfig ~/.kube/config [--context ctx] --node NODE [--node NODE2]
//        [--namespace default] [--seconds 30] [--out ./captures]
import { parseArgs } from 'node:util';
import { CaptureStartError, Engine } from '../src/engine.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string' },
    node: { type: 'string', multiple: true },
    seconds: { type: 'string', default: '30' },
    image: { type: 'string' },
    out: { type: 'string', default: './captures' },
  },
});

async function main(): Promise<number> {
  const engine = await Engine.fromKubeconfig(values.kubeconfig, { context: values.context, workerImage: values.image });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort()); // Ctrl+C = cancel: workers flush and still report
  try {
    const run = await engine.startCapture(
      {
        namespace: values.namespace,
        targets: (values.node ?? []).map((name) => ({ kind: 'node' as const, name })),
        outputs: { hostPath: { subPath: 'retina' } },
        options: { durationSeconds: Number(values.seconds) },
      },
      { signal: abort.signal },
    );
    for await (const ev of run.events) {
      if (ev.type === 'node') console.log(`${ev.node}: ${ev.phase}${ev.message ? ` — ${ev.message}` : ''}`);
      else if (ev.type === 'warning') console.warn(`warning: ${ev.message}`);
    }
    const summary = await run.done;
    console.log(`capture ${run.name}: ${summary.ok ? 'ok' : 'some nodes failed'} (${engine.stats.total} API requests)`);
    const dl = await engine.download(run.name, { to: values.out, namespace: run.namespace });
    for (const a of dl.archives) console.log(`${a.node}: ${a.unpacked.dir}`);
    for (const f of dl.failures) console.error(`${f.node}: ${f.error}`);
    return summary.ok && dl.failures.length === 0 ? 0 : 1;
  } catch (e) {
    console.error(e instanceof CaptureStartError ? `Not started (${e.stage}): ${e.message}` : e);
    return 1;
  } finally {
    engine.dispose();
  }
}

main().then((code) => process.exit(code));
