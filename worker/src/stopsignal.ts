// The stop request (Job deleted → SIGTERM to the pod's processes, then SIGKILL after the grace
// period) can arrive at any moment, including while the bundle is still loading its modules and
// the native capture binding: on the test cluster a cancel right after the pod turned Running hit
// the worker before main() had installed its handler, and Node's default action killed it
// (exit 143, no archive, no result). main.ts imports this module FIRST, so the handlers are in
// place before any heavy module is evaluated; main() then subscribes with onStopSignal(), which
// also fires at once for a signal that came earlier. Only Node's own startup (before any of
// our code runs) is left unprotected.
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

/** Calls `cb` once, when SIGTERM/SIGINT arrives — at once if one already did. */
export function onStopSignal(cb: () => void): void {
  if (received) cb();
  else listeners.push(cb);
}

/** The first stop signal received so far, if any. */
export function stopSignalReceived(): NodeJS.Signals | undefined {
  return received;
}
