// The stop request (Job deleted → SIGTERM to the pod's processes, then SIGKILL after the grace
// period) can arrive at any moment, including while the bundle is still loading its modules and
// the native capture binding: on the test cluster a cancel right after the pod turned Running hit
// the worker before main() had installed its handler, and Node's default action killed it
// (exit 143, no archive, no result). main.ts imports this module FIRST, so the handlers are in
// place before any heavy module is evaluated; main() then subscribes with onStopSignal(), which
// also fires at once for a signal that came earlier. Node's own start-up (before any of our
// code runs) is covered by worker/rcap-init.sh, the image's entrypoint: it holds a stop signal
// until this module has created $RCAP_READY_FILE.
import { writeFileSync } from 'node:fs';
const listeners: (() => void)[] = [];
let received: NodeJS.Signals | undefined;

function onSignal(sig: NodeJS.Signals): void {
  if (!received) {
    received = sig;
    process.stderr.write(`rcap ${sig} received\n`);
  }
  for (const l of listeners.splice(0)) l();
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
if (process.env.RCAP_READY_FILE) {
  try {
    writeFileSync(process.env.RCAP_READY_FILE, `${process.pid}\n`);
  } catch (e) {
    // rcap-init.sh then passes a stop on only after its ~5 s wait for the file: say why.
    process.stderr.write(`rcap cannot write RCAP_READY_FILE: ${(e as Error).message}\n`);
  }
}

/** Calls `cb` once, when SIGTERM/SIGINT arrives — at once if one already did. */
export function onStopSignal(cb: () => void): void {
  if (received) cb();
  else listeners.push(cb);
}

/** The first stop signal received so far, if any. */
export function stopSignalReceived(): NodeJS.Signals | undefined {
  return received;
}
