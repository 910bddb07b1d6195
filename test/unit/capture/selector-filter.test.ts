import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterProblem } from '../../../src/capture/bpf.js';
import { includeExcludeClause, pcapFilterFor, tcpdumpFilterFor } from '../../../src/capture/ipfilter.js';
import {
  formatRequirements,
  matches,
  parseSelector,
  toLabelSelector,
  type Requirement,
} from '../../../src/capture/selector.js';

function reqs(s: Parameters<typeof parseSelector>[0]): Requirement[] {
  const p = parseSelector(s);
  assert.ok(p.ok, p.ok ? '' : p.error);
  return p.requirements;
}

test('label selector string form: =, ==, !=, in, notin, exists, !exists', () => {
  const r = reqs('a=b, c!=d,e in (x, y),f notin (z),g,!h,i==j');
  assert.equal(formatRequirements(r), 'a=b,c!=d,e in (x,y),f!=z,g,!h,i=j');
  const base = { a: 'b', e: 'y', g: '', i: 'j' };
  assert.ok(matches(base, r));
  assert.ok(matches({ ...base, c: 'other', f: 'q' }, r));
  assert.ok(!matches({ ...base, c: 'd' }, r), '!= excludes the value');
  assert.ok(!matches({ ...base, f: 'z' }, r), 'notin excludes the value');
  assert.ok(!matches({ ...base, h: 'x' }, r), '!h needs the label absent');
  assert.ok(!matches({ ...base, e: 'w' }, r));
  const { g: _g, ...noG } = base;
  assert.ok(!matches(noG, r), 'g must exist');
});

test('empty selector selects everything; map and V1LabelSelector forms', () => {
  assert.ok(matches({}, reqs('')));
  assert.ok(matches({ app: 'web' }, reqs({ app: 'web' })));
  const sel = { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] };
  assert.ok(matches({ app: 'api', tier: 'web' }, reqs(sel)));
  assert.ok(!matches({ app: 'api', tier: 'db' }, reqs(sel)));
  assert.deepEqual(toLabelSelector(reqs('app=web,tier in (a,b),!x')), {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
      { key: 'x', operator: 'DoesNotExist' },
    ],
  });
});

test('selector errors are explained', () => {
  const err = (s: Parameters<typeof parseSelector>[0]): string => {
    const p = parseSelector(s);
    assert.ok(!p.ok);
    return p.error;
  };
  assert.match(err('a=b,,c'), /empty requirement/);
  assert.match(err('app in ()'), /value list in \( \) is empty/);
  assert.match(err('-bad=x'), /label key "-bad" is invalid/);
  assert.match(err({ app: 'has space' }), /label value "has space" is invalid/);
  assert.match(err({ matchExpressions: [{ key: 'a', operator: 'Maybe' }] }), /unknown selector operator "Maybe"/);
});

test('include/exclude compose like Retina: sorted, grouped, *:port subsumes ip:port', () => {
  assert.equal(
    includeExcludeClause(['10.0.0.2:80', '10.0.0.1'], []),
    '((host 10.0.0.1) or (host 10.0.0.2 and port 80))',
  );
  assert.equal(includeExcludeClause([], ['10.0.0.1:22']), 'not ((host 10.0.0.1 and port 22))');
  assert.equal(
    includeExcludeClause(['10.0.0.1:80', '*:80', '10.0.0.1:443'], []),
    '((port 80) or (host 10.0.0.1 and port 443))',
  );
  assert.equal(includeExcludeClause(['10.0.0.1:80', '10.0.0.1:*'], []), '((host 10.0.0.1))');
  assert.equal(
    includeExcludeClause(['[fd00::1]:443', 'fd00::2'], []),
    '((host fd00::1 and port 443) or (host fd00::2))',
  );
  assert.equal(includeExcludeClause([], []), '');
});

test('pod IPs are AND-ed, never OR-ed, with the include/exclude clause', () => {
  assert.equal(
    tcpdumpFilterFor(['*:80'], [], ['10.1.1.1', '10.1.1.2']),
    '(((port 80))) and ((host 10.1.1.1 or host 10.1.1.2))',
  );
  assert.equal(tcpdumpFilterFor([], [], ['10.1.1.1']), '(host 10.1.1.1)');
  assert.equal(tcpdumpFilterFor([], [], []), '');
});

test('PCAP_FILTER: user BPF AND source AND destination', () => {
  assert.equal(pcapFilterFor('', [], []), '');
  assert.equal(pcapFilterFor('tcp', [], []), 'tcp');
  assert.equal(pcapFilterFor('', ['10.0.0.1', '10.0.0.2'], []), 'src host 10.0.0.1 or src host 10.0.0.2');
  assert.equal(
    pcapFilterFor('udp', ['10.0.0.1'], ['10.0.0.2']),
    '(udp) and ((src host 10.0.0.1) and (dst host 10.0.0.2))',
  );
});

test('filterProblem catches obvious BPF mistakes and accepts real filters', () => {
  for (const ok of [
    '',
    'tcp port 80',
    'host 10.0.0.1 and not port 22',
    '(tcp or udp) and port 53',
    'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420',
    'not (port 22 or port 443)',
    'ip6 && !icmp6',
    'host (10.0.0.1 or 10.0.0.2)',
    'ip[2:2] - 20 > 100',
  ]) {
    assert.equal(filterProblem(ok), undefined, ok);
  }
  assert.equal(filterProblem('(tcp'), 'has 1 unclosed "("');
  assert.equal(filterProblem('tcp)'), 'has a ")" without a matching "("');
  assert.equal(filterProblem('tcp and ()'), 'has empty parentheses "()"');
  assert.equal(filterProblem('and tcp'), 'starts with "and"');
  assert.equal(filterProblem('tcp and or udp'), '"and or": "or" has no left-hand side');
  assert.equal(filterProblem('tcp or'), 'ends with "or", which needs something after it');
  assert.equal(filterProblem('not'), 'ends with "not", which needs something after it');
  assert.equal(filterProblem('(tcp and)'), '"and" is missing its right-hand side before ")"');
  assert.equal(filterProblem('tcp not udp'), 'missing "and"/"or" before "not"');
  assert.match(filterProblem('-i eth0 tcp') ?? '', /tcpdump flag/);
  assert.match(filterProblem('x'.repeat(1025)) ?? '', /limit is 1024/);
});
