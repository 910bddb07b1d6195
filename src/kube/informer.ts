// List + watch cache for one resource kind. Own loop rather than client-node's makeInformer:
// that one re-lists on every watch end and its Watch drops the Status of ERROR events, while
// here a watch resumes from the last resourceVersion (bookmarks keep it fresh), only 410 Gone
// forces a re-list, reconnects use capped jittered backoff, and every request goes through the
// door's counting transport. No polling: between watch events nothing is sent.
import { createInterface } from 'node:readline';
import type { IncomingMessage } from 'node:http';
import { KubeError, isKubeError } from './errors.js';
import { backoffDelay, sleep } from './backoff.js';
import { objectKey, resourcePath, type KubeObject, type ObjectList, type ResourceKind } from './resources.js';
import type { RequestOptions } from './transport.js';

export type InformerEventType = 'add' | 'update' | 'delete';

export interface InformerEvent<T> {
  type: InformerEventType;
  object: T;
  /** Previous version on update. */
  old?: T;
}

export type InformerListener<T> = (ev: InformerEvent<T>) => void;

/** What an informer needs from the transport (a fake in unit tests). */
export interface InformerTransport {
  request<R>(opts: RequestOptions): Promise<R>;
  stream(opts: Omit<RequestOptions, 'method' | 'body'>): Promise<IncomingMessage | NodeJS.ReadableStream>;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of the initial list (large clusters). */
  pageSize?: number;
  /** Server-side watch timeout range, seconds; the watch is then resumed from the last version. */
  watchTimeoutSeconds?: [number, number];
  log?: (msg: string) => void;
}

interface WatchLine<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; message?: string; reason?: string };
}

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly listeners = new Set<InformerListener<T>>();
  private readonly syncListeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private watchAbort?: AbortController;
  /** Aborted by restartWatch()/forceRelist() to cut a pending reconnect backoff short. */
  private wakeAbort = new AbortController();
  private resourceVersion?: string;
  /** Bumped by forceRelist(): a list that started before it must not count as the re-list. */
  private relistGeneration = 0;
  private started = false;
  private listing = false;
  private hasSynced = false;
  private resolveSynced!: () => void;
  private rejectSynced!: (e: unknown) => void;
  /** Resolves after the first full list; rejects if that list fails for good (e.g. 403). */
  readonly synced: Promise<void>;
  /** Last error of the loop (shown by the ui as "watch reconnecting: …"). */
  lastError?: KubeError;
  /** Counters for tests and diagnostics. */
  readonly counters = { lists: 0, watches: 0, relistsOn410: 0, bookmarks: 0 };

  constructor(
    private readonly transport: InformerTransport,
    readonly kind: ResourceKind,
    private readonly opts: InformerOptions = {},
  ) {
    this.synced = new Promise((res, rej) => {
      this.resolveSynced = res;
      this.rejectSynced = rej;
    });
    this.synced.catch(() => undefined); // observed by callers who await it
  }

  start(): this {
    if (!this.started) {
      this.started = true;
      void this.loop();
    }
    return this;
  }

  get isSynced(): boolean {
    return this.hasSynced;
  }

  list(filter?: (o: T) => boolean): T[] {
    const all = [...this.store.values()];
    return filter ? all.filter(filter) : all;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(`${namespace ?? ''}/${name}`);
  }

  /** Calls `cb` after every full list (first sync, re-list after 410); returns the unsubscribe function. */
  onSync(cb: () => void): () => void {
    this.syncListeners.add(cb);
    return () => this.syncListeners.delete(cb);
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: InformerListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the current watch connection (tests: "survives a watch restart"). */
  restartWatch(): void {
    this.wake();
  }

  /** Forgets the resourceVersion so the next watch starts with a list (as after 410). */
  forceRelist(): void {
    this.relistGeneration++;
    this.resourceVersion = undefined;
    this.wake();
  }

  /**
   * The Refresh button: re-list unless a list is running now. That list and the watch resumed
   * from its version miss nothing, so clicking Refresh again mid-list (or twenty times) does
   * not throw the running list away and start over, as forceRelist() must.
   */
  refresh(): void {
    if (!this.listing) this.forceRelist();
  }

  /** Ends the current watch and any reconnect backoff, so the loop acts at once. */
  private wake(): void {
    this.watchAbort?.abort();
    this.wakeAbort.abort();
    this.wakeAbort = new AbortController();
  }

  dispose(): void {
    this.abort.abort();
    this.watchAbort?.abort();
    this.listeners.clear();
    this.syncListeners.clear();
    this.rejectSynced(new KubeError('aborted', 'Informer disposed.'));
  }

  private emit(ev: InformerEvent<T>): void {
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch (e) {
        this.opts.log?.(`informer listener failed: ${(e as Error).message}`);
      }
    }
  }

  private upsert(obj: T): void {
    // Server-side-apply bookkeeping is never read here and is often a third of an object:
    // not keeping it makes thousands of stored pods (and every re-list) much lighter.
    const meta = obj.metadata as { managedFields?: unknown } | undefined;
    if (meta?.managedFields) delete meta.managedFields;
    const key = objectKey(obj);
    const old = this.store.get(key);
    this.store.set(key, obj);
    this.emit(old ? { type: 'update', object: obj, old } : { type: 'add', object: obj });
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    this.store.delete(key);
    this.emit({ type: 'delete', object: old ?? obj });
  }

  private baseQuery(): Record<string, string | undefined> {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
  }

  private async relist(): Promise<void> {
    const generation = this.relistGeneration;
    const path = resourcePath(this.kind, this.opts.namespace);
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv: string | undefined;
    // Until the last page is in (or a page fails): refresh() leaves this list alone. Cleared
    // before the sync listeners below run, so a refresh() from one of them re-lists.
    this.listing = true;
    try {
      do {
        this.counters.lists++;
        const page = await this.transport.request<ObjectList<T>>({
          method: 'GET',
          path,
          query: { ...this.baseQuery(), limit: this.opts.pageSize ?? 500, continue: cont },
          ctx: { verb: 'list', resource: this.kind.display, namespace: this.opts.namespace },
          signal: this.abort.signal,
        });
        // Applied page by page: an unchanged object's fresh copy is dropped at once instead of
        // being held (5,000 pods) until the last page, which made every re-list grow the heap.
        for (const obj of page.items) {
          const key = objectKey(obj);
          seen.add(key);
          const old = this.store.get(key);
          if (!old || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.upsert(obj);
        }
        cont = page.metadata?.continue || undefined;
        rv = page.metadata?.resourceVersion;
      } while (cont);
    } finally {
      this.listing = false;
    }
    // Objects the full list no longer has were deleted meanwhile (a re-list after 410 may have
    // missed their delete events).
    for (const [key, old] of [...this.store]) if (!seen.has(key)) this.remove(old);
    // forceRelist() during this list: its caller wants a list that started after the call.
    this.resourceVersion = generation === this.relistGeneration ? rv : undefined;
    this.hasSynced = true;
    this.resolveSynced();
    for (const cb of [...this.syncListeners]) cb();
  }

  private async watchOnce(): Promise<void> {
    // forceRelist() may have run between the list and here: never watch without a version
    // (that would replay every object as ADDED and skip the re-list).
    if (this.resourceVersion === undefined) return;
    const [lo, hi] = this.opts.watchTimeoutSeconds ?? [300, 600];
    this.watchAbort = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, this.watchAbort.signal]);
    this.counters.watches++;
    const res = await this.transport.stream({
      path: resourcePath(this.kind, this.opts.namespace),
      query: {
        ...this.baseQuery(),
        watch: 1,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.round(lo + Math.random() * (hi - lo)),
      },
      ctx: { verb: 'watch', resource: this.kind.display, namespace: this.opts.namespace },
      signal,
      retries: 0,
    });
    const lines = createInterface({ input: res as NodeJS.ReadableStream, crlfDelay: Infinity });
    const stop = (): void => {
      (res as IncomingMessage).destroy?.();
      lines.close();
    };
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop(); // aborted while the response headers were on their way
    try {
      for await (const line of lines) {
        // readline may still yield lines buffered before the abort; applying them would move
        // the resourceVersion forward again after forceRelist() cleared it (and skip the list).
        if (signal.aborted) break;
        if (!line.trim()) continue;
        let ev: WatchLine<T>;
        try {
          ev = JSON.parse(line) as WatchLine<T>;
        } catch {
          continue; // a torn line at disconnect
        }
        const rv = ev.object?.metadata?.resourceVersion;
        switch (ev.type) {
          case 'ADDED':
          case 'MODIFIED':
            this.upsert(ev.object);
            break;
          case 'DELETED':
            this.remove(ev.object);
            break;
          case 'BOOKMARK':
            this.counters.bookmarks++;
            break;
          case 'ERROR':
            if (ev.object.code === 410) {
              throw new KubeError('gone', ev.object.message ?? 'resourceVersion too old', { status: 410 });
            }
            throw new KubeError('unavailable', `watch error: ${ev.object.message ?? 'unknown'}`, {
              status: ev.object.code,
            });
        }
        if (rv) this.resourceVersion = rv;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        await this.watchOnce();
        failures = 0; // a watch that ended normally (timeout, restart) resumes at once
        this.lastError = undefined;
      } catch (e) {
        if (this.abort.signal.aborted) return;
        const err = isKubeError(e) ? e : new KubeError('network', (e as Error).message ?? String(e), { cause: e });
        if (err.kind === 'aborted' && this.watchAbort?.signal.aborted) continue; // restartWatch()
        if (err.kind === 'gone') {
          this.counters.relistsOn410++;
          this.resourceVersion = undefined;
          this.opts.log?.(`${this.kind.display}: watch expired (410), re-listing`);
          continue;
        }
        this.lastError = err;
        if (!this.isSynced && (err.kind === 'forbidden' || err.kind === 'unauthorized' || err.kind === 'config')) {
          this.rejectSynced(err); // the caller must know now; the loop keeps trying in the background
        }
        this.opts.log?.(`${this.kind.display}: ${err.message}; reconnecting`);
        try {
          await sleep(
            backoffDelay(failures++, err.retryAfterMs),
            AbortSignal.any([this.abort.signal, this.wakeAbort.signal]),
          );
        } catch {
          if (this.abort.signal.aborted) return;
          // woken by restartWatch()/forceRelist(): reconnect now
        }
      }
    }
  }
}
