// CLI of the test cluster:
//   npm run cluster:up [-- --nodes 3 --hollow 0]   start (idempotent), prints KUBECONFIG=… lines
//   npm run cluster:down                           stop everything, remove state
//   npm run cluster:status                         print cluster.json
import { parseArgs } from 'node:util';
import { down, printLines, readCluster, up } from './cluster.js';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { nodes: { type: 'string' }, hollow: { type: 'string' }, timeout: { type: 'string' } },
  });
  const cmd = positionals[0];
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`--${name} needs an integer, got ${v}`);
    return n;
  };
  switch (cmd) {
    case 'up': {
      const timeout = int(values.timeout, 'timeout');
      const info = await up({
        nodes: int(values.nodes, 'nodes'),
        hollow: int(values.hollow, 'hollow'),
        timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      });
      printLines(info);
      break;
    }
    case 'down':
      await down();
      break;
    case 'status': {
      const info = readCluster();
      console.log(info ? JSON.stringify(info, null, 2) : 'no cluster');
      break;
    }
    default:
      throw new Error('usage: cli.ts up [--nodes N] [--hollow N] [--timeout S] | down | status');
  }
}

main().catch((e: unknown) => {
  console.error(`[cluster] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
