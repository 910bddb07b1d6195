// Kubernetes label selectors, evaluated locally: the planner works on a snapshot the kube layer
// listed once, so selection is explainable ("matches no pod") and testable without a cluster.
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { SelectorInput } from './request.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

export type ParsedSelector = { ok: true; requirements: Requirement[] } | { ok: false; error: string };

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid, or undefined. Rules of k8s.io/apimachinery validation. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) {
    return `label key "${key}" has an invalid prefix (a DNS subdomain such as example.com is expected)`;
  }
  if (name.length === 0 || name.length > 63 || !NAME_RE.test(name)) {
    return `label key "${key}" is invalid (1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_RE.test(value)) {
    return `label value "${value}" is invalid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return undefined;
    } else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(text.slice(start));
  return parts;
}

const SET_RE = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/;
const CMP_RE = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/;

function parseRequirement(raw: string): Requirement | string {
  const text = raw.trim();
  if (text === '') return 'empty requirement (two commas in a row or a trailing comma)';
  let req: Requirement;
  const set = SET_RE.exec(text);
  const cmp = set ? null : CMP_RE.exec(text);
  if (set) {
    const values = (set[3] as string).split(',').map((v) => v.trim());
    if (values.length === 1 && values[0] === '') return `"${text}": the value list in ( ) is empty`;
    req = { key: set[1] as string, operator: set[2] === 'in' ? 'In' : 'NotIn', values };
  } else if (cmp) {
    const op = cmp[2] as string;
    const value = cmp[3] as string;
    if (op === '>' || op === '<') {
      if (!/^-?\d+$/.test(value)) return `"${text}": ${op} needs an integer value`;
      req = { key: cmp[1] as string, operator: op === '>' ? 'Gt' : 'Lt', values: [value] };
    } else {
      req = { key: cmp[1] as string, operator: op === '!=' ? 'NotIn' : 'In', values: [value] };
    }
  } else if (text.startsWith('!')) {
    req = { key: text.slice(1).trim(), operator: 'DoesNotExist', values: [] };
  } else if (/^\S+$/.test(text)) {
    req = { key: text, operator: 'Exists', values: [] };
  } else {
    return `"${text}" is not a selector requirement (expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key)`;
  }
  const keyProblem = labelKeyProblem(req.key);
  if (keyProblem) return keyProblem;
  if (req.operator !== 'Gt' && req.operator !== 'Lt') {
    for (const v of req.values) {
      const p = labelValueProblem(v);
      if (p) return p;
    }
  }
  return req;
}

/** Parses Kubernetes' string form: `a=b,c!=d,e in (x,y),!f`. The empty string selects everything. */
export function parseSelectorString(text: string): ParsedSelector {
  if (text.trim() === '') return { ok: true, requirements: [] };
  const parts = splitTopLevel(text);
  if (!parts) return { ok: false, error: `unbalanced parentheses in selector "${text}"` };
  const requirements: Requirement[] = [];
  for (const part of parts) {
    const r = parseRequirement(part);
    if (typeof r === 'string') return { ok: false, error: r };
    requirements.push(r);
  }
  return { ok: true, requirements };
}

function fromMap(labels: Record<string, string>): ParsedSelector {
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const p = labelKeyProblem(key) ?? labelValueProblem(value);
    if (p) return { ok: false, error: p };
    requirements.push({ key, operator: 'In', values: [value] });
  }
  return { ok: true, requirements };
}

/** A V1LabelSelector (matchLabels AND matchExpressions). `{}` selects everything. */
export function fromLabelSelector(sel: V1LabelSelector): ParsedSelector {
  const base = fromMap(sel.matchLabels ?? {});
  if (!base.ok) return base;
  const requirements = [...base.requirements];
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator as SelectorOperator;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(op)) {
      return { ok: false, error: `unknown selector operator "${e.operator}" for key "${e.key}"` };
    }
    if ((op === 'In' || op === 'NotIn') && !(e.values ?? []).length) {
      return { ok: false, error: `selector operator ${op} for key "${e.key}" needs at least one value` };
    }
    const p = labelKeyProblem(e.key);
    if (p) return { ok: false, error: p };
    requirements.push({ key: e.key, operator: op, values: [...(e.values ?? [])] });
  }
  return { ok: true, requirements };
}

export function parseSelector(input: SelectorInput | V1LabelSelector): ParsedSelector {
  if (typeof input === 'string') return parseSelectorString(input);
  if ('matchLabels' in input || 'matchExpressions' in input) return fromLabelSelector(input as V1LabelSelector);
  return fromMap(input as Record<string, string>);
}

function matchesOne(labels: Record<string, string>, r: Requirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(value as string);
    case 'NotIn':
      // Kubernetes semantics: `k!=v` and `k notin (…)` also match objects without the label.
      return !has || !r.values.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const n = Number(value);
      const limit = Number(r.values[0]);
      return r.operator === 'Gt' ? n > limit : n < limit;
    }
  }
}

/** All requirements must hold (AND), as in Kubernetes. */
export function matches(labels: Record<string, string> | undefined, requirements: Requirement[]): boolean {
  const l = labels ?? {};
  return requirements.every((r) => matchesOne(l, r));
}

/** Canonical string form, for messages and for `kubectl get -l`. */
export function formatRequirements(requirements: Requirement[]): string {
  return requirements
    .map((r) => {
      switch (r.operator) {
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'Gt':
          return `${r.key}>${r.values[0]}`;
        case 'Lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

/** As a V1LabelSelector (Gt/Lt are node-affinity only and cannot appear here). */
export function toLabelSelector(requirements: Requirement[]): V1LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<V1LabelSelector['matchExpressions']> = [];
  for (const r of requirements) {
    if (r.operator === 'In' && r.values.length === 1 && !(r.key in matchLabels)) {
      matchLabels[r.key] = r.values[0] as string;
    } else if (r.operator === 'Gt' || r.operator === 'Lt') {
      throw new Error(`selector operator ${r.operator} cannot be expressed as a label selector`);
    } else {
      matchExpressions.push({
        key: r.key,
        operator: r.operator,
        ...(r.values.length ? { values: [...r.values] } : {}),
      });
    }
  }
  return {
    ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
    ...(matchExpressions.length ? { matchExpressions } : {}),
  };
}
