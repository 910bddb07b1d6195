// The informer loop against a fake transport: list, watch from the list's resourceVersion with
// bookmarks, 410 Gone → re-list (emitting the deletes it missed), typed events, dispose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Informer, type InformerEvent, type InformerTransport } from '../../../src/kube/informer.js';
import { KINDS, type KubeObject } from '../../../src/kube/resources.js';
import type { RequestOptions } from '../../../src/kube/transport.js';

const pod = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

class FakeTransport implements InformerTransport {
  lists: { items: KubeObject[]; rv: string }[] = [];
  watches: { query: RequestOptions['query']; stream: PassThrough }[] = [];
  private waiters: (() => void)[] = [];
  async request<R>(): Promise<R> {
    const l = this.lists.shift();
    if (!l) throw new Error('unexpected list');
    return { metadata: { resourceVersion: l.rv }, items: l.items } as R;
  }
  async stream(opts: Omit<RequestOptions, 'method' | 'body'>): Promise<PassThrough> {
    const s = new PassThrough();
    this.watches.push({ query: opts.query, stream: s });
    for (const w of this.waiters.splice(0)) w();
    return s;
  }
  async nextWatch(n: number): Promise<{ query: RequestOptions['query']; stream: PassThrough }> {
    while (this.watches.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.watches[n - 1] as { query: RequestOptions['query']; stream: PassThrough };
  }
}

const line = (type: string, object: unknown): string => JSON.stringify({ type, object }) + '\n';

test('stored objects drop managedFields (never read, a large part of every pod)', async () => {
  const t = new FakeTransport();
  const withFields = (name: string, rv: string): KubeObject =>
    ({ metadata: { ...pod(name, rv).metadata, managedFields: [{ manager: 'kubelet' }] } }) as KubeObject;
  t.lists.push({ items: [withFields('a', '5')], rv: '10' });
  const inf = new Informer<KubeObject>(t, KINDS.pods);
  inf.start();
  await inf.synced;
  const w = await t.nextWatch(1);
  w.stream.write(line('ADDED', withFields('b', '11')));
  await new Promise((r) => setImmediate(r));
  for (const name of ['a', 'b']) {
    const o = inf.get('ns', name);
    assert.equal(o?.metadata?.resourceVersion, name === 'a' ? '5' : '11');
    assert.equal((o?.metadata as { managedFields?: unknown }).managedFields, undefined);
  }
  inf.dispose();
});

test('list, watch with bookmarks, 410 → re-list with missed deletes, dispose', async () => {
  const t = new FakeTransport();
  t.lists.push({ items: [pod('a', '5'), pod('b', '6')], rv: '10' });
  const inf = new Informer<KubeObject>(t, KINDS.pods);
  const events: InformerEvent<KubeObject>[] = [];
  inf.on((e) => events.push(e));
  inf.start();
  await inf.synced;
  assert.deepEqual(
    events.map((e) => `${e.type}:${e.object.metadata?.name}`),
    ['add:a', 'add:b'],
  );

  const w1 = await t.nextWatch(1);
  assert.equal(w1.query?.resourceVersion, '10');
  assert.equal(w1.query?.allowWatchBookmarks, true);
  w1.stream.write(line('ADDED', pod('c', '11')));
  w1.stream.write(line('MODIFIED', pod('a', '12')));
  w1.stream.write(line('BOOKMARK', { metadata: { resourceVersion: '20' } }));
  w1.stream.end(); // server closed the watch (timeout): resume from the bookmark

  const w2 = await t.nextWatch(2);
  assert.equal(w2.query?.resourceVersion, '20');
  assert.equal(inf.counters.bookmarks, 1);
  // b was deleted while we were not looking; the server says our version is too old.
  t.lists.push({ items: [pod('a', '12'), pod('c', '11')], rv: '30' });
  w2.stream.write(line('ERROR', { kind: 'Status', code: 410, message: 'too old resource version: 20 (25)' }));
  const w3 = await t.nextWatch(3);
  assert.equal(w3.query?.resourceVersion, '30');
  assert.equal(inf.counters.relistsOn410, 1);
  assert.deepEqual(
    events.map((e) => `${e.type}:${e.object.metadata?.name}`),
    ['add:a', 'add:b', 'add:c', 'update:a', 'delete:b'],
  );
  assert.deepEqual(
    inf
      .list()
      .map((p) => p.metadata?.name)
      .sort(),
    ['a', 'c'],
  );
  w3.stream.write(line('DELETED', pod('c', '31')));
  await new Promise((r) => setImmediate(r));
  assert.equal(inf.get('ns', 'c'), undefined);
  inf.dispose();
  assert.equal(t.watches.length, 3, 'no polling, no extra requests');
});

test('a forbidden first list rejects synced with the message', async () => {
  const t: InformerTransport = {
    request: async () => {
      const { KubeError } = await import('../../../src/kube/errors.js');
      throw new KubeError('forbidden', 'You cannot list pods (cluster-wide).');
    },
    stream: async () => new PassThrough(),
  };
  const inf = new Informer<KubeObject>(t, KINDS.pods).start();
  await assert.rejects(inf.synced, /You cannot list pods/);
  inf.dispose();
});

test(
  'forceRelist re-lists even when watch events were buffered at the moment of the call',
  { timeout: 10_000 },
  async () => {
    const t = new FakeTransport();
    t.lists.push({ items: [pod('a', '5')], rv: '10' });
    const inf = new Informer<KubeObject>(t, KINDS.pods).start();
    await inf.synced;
    const w1 = await t.nextWatch(1);
    // Let a first event through so the watch stream is flowing, then race: lines that are already
    // in flight when forceRelist() runs must not move the resourceVersion forward again.
    w1.stream.write(line('MODIFIED', pod('a', '11')));
    await new Promise((r) => setImmediate(r));
    t.lists.push({ items: [pod('a', '13')], rv: '40' });
    w1.stream.write(line('MODIFIED', pod('a', '12')) + line('MODIFIED', pod('a', '13')));
    inf.forceRelist();
    const w2 = await t.nextWatch(2);
    assert.equal(inf.counters.lists, 2, 're-listed');
    assert.equal(w2.query?.resourceVersion, '40', 'the new watch starts from the new list');
    inf.dispose();
  },
);

test('forceRelist cuts a long reconnect backoff short', { timeout: 10_000 }, async () => {
  const { KubeError } = await import('../../../src/kube/errors.js');
  let lists = 0;
  let streams = 0;
  const relisted: (() => void)[] = [];
  const t: InformerTransport = {
    request: async <R>() => {
      lists++;
      for (const r of relisted.splice(0)) r();
      return { metadata: { resourceVersion: String(lists) }, items: [] } as R;
    },
    stream: async () => {
      streams++;
      // The server asks us to wait 30 s before the next watch.
      throw new KubeError('tooManyRequests', 'slow down', { status: 429, retryAfterMs: 30_000 });
    },
  };
  const inf = new Informer<KubeObject>(t, KINDS.pods).start();
  await inf.synced;
  while (streams < 1) await new Promise((r) => setImmediate(r));
  const started = Date.now();
  const again = new Promise<void>((r) => relisted.push(r));
  inf.forceRelist();
  await again;
  assert.ok(Date.now() - started < 2_000, 'the re-list did not wait for the backoff');
  assert.equal(lists, 2);
  inf.dispose();
});

test(
  'refresh() re-lists when idle but leaves a running list alone; pages apply as they come',
  { timeout: 10_000 },
  async () => {
    // Two-page lists; the second page of a list waits until the test releases it.
    let requests = 0;
    let releasePage2: (() => void) | undefined;
    const pages: { items: KubeObject[]; cont?: string; rv: string }[][] = [
      [
        { items: [pod('a', '1'), pod('b', '2')], cont: 'x', rv: '10' },
        { items: [pod('c', '3')], rv: '10' },
      ],
      [
        { items: [pod('a', '1'), pod('b', '7')], cont: 'y', rv: '20' },
        { items: [], rv: '20' },
      ],
    ];
    let listNo = -1;
    const t: InformerTransport = {
      request: async <R>(opts: RequestOptions) => {
        requests++;
        if (!opts.query?.continue) listNo++;
        const list = pages[listNo];
        if (!list) throw new Error('unexpected list');
        const page = opts.query?.continue ? list[1]! : list[0]!;
        if (opts.query?.continue && listNo === 1) await new Promise<void>((r) => (releasePage2 = r));
        return { metadata: { resourceVersion: page.rv, continue: page.cont }, items: page.items } as R;
      },
      stream: async () => new PassThrough(),
    };
    const inf = new Informer<KubeObject>(t, KINDS.pods, { pageSize: 2 }).start();
    await inf.synced;
    assert.deepEqual(
      inf
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['a', 'b', 'c'],
    );
    const events: string[] = [];
    inf.on((e) => events.push(`${e.type}:${e.object.metadata?.name}`));

    inf.refresh(); // idle: re-lists
    while (!releasePage2) await new Promise((r) => setImmediate(r));
    // First page of the re-list applied before the second arrived; the unchanged copy of a is not.
    assert.deepEqual(events, ['update:b']);
    assert.equal(inf.get('ns', 'c')?.metadata?.name, 'c', 'deletes wait for the whole list');
    inf.refresh(); // a list is running: no restart
    inf.refresh();
    releasePage2();
    while (events.length < 2) await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, ['update:b', 'delete:c']);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(requests, 4, 'two lists of two pages: the refreshes during the second did not start a third');
    inf.dispose();
  },
);
