// Workaround for a crash in the patched `cap` binding (reported to the capture-engine owner):
// once a capture is closed, its native object becomes collectable, and when V8 collects it the
// destructor (~Pcap → Nan::AsyncResource → node::AsyncWrap::EmitDestroy) runs inside a
// first-pass weak callback and segfaults the process (gdb backtrace:
// EmitDestroy ← Pcap::~Pcap ← GlobalHandles::InvokeFirstPassWeakCallbacks). It showed up in
// 5 of 8 worker runs as SIGSEGV right after "capture closed", before the archive was written.
// The worker opens a handful of handles and exits afterwards, so keeping every native Cap
// object reachable until process exit costs nothing and avoids the collection entirely.
// Remove once the binding no longer destroys AsyncResource from a GC callback.
import capModule from 'cap';

const retained: unknown[] = [];
let installed = false;

export function retainNativeCaptureHandles(): void {
  if (installed) return;
  installed = true;
  const proto = (capModule as unknown as { Cap: { prototype: Record<string, unknown> } }).Cap.prototype;
  const open = proto.open as (...args: unknown[]) => unknown;
  proto.open = function (this: unknown, ...args: unknown[]): unknown {
    retained.push(this);
    return open.apply(this, args);
  };
}
