// Checks a blob SAS URL before it goes into a Secret (upload) or is used to download, so a bad
// URL fails in the form instead of at the end of a capture. Pure: no SDK, no network.
// Messages never contain the signature: URLs are shown through describeSasUrl.
import { isIP } from 'node:net';
import { describeSasUrl } from '../contract/index.js';

export type SasNeed = 'upload' | 'download';

export interface SasCheckOptions {
  /** When the SAS must still be valid (the capture's end for uploads). */
  until?: Date;
  /** Accept http to non-loopback hosts (a test cluster reaching Azurite on a bridge address). */
  allowHttp?: boolean;
}

/** Loopback hosts may use http: that is Azurite on the developer's machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Path segments that name the container. IP and localhost endpoints use path-style URLs
 * (`/devstoreaccount1/<container>`, Azurite), everything else host-style (`<account>.blob…/<container>`).
 */
export function containerPathSegments(u: URL): { account?: string; segments: string[] } {
  const segments = u.pathname.split('/').filter((s) => s !== '');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 || host === 'localhost') {
    const [account, ...rest] = segments;
    return { ...(account !== undefined ? { account } : {}), segments: rest };
  }
  return { segments };
}

const NEEDS: Record<SasNeed, { letters: [string, string][]; why: string }> = {
  upload: {
    letters: [
      ['c', 'create'],
      ['w', 'write'],
    ],
    why: 'needed by the workers',
  },
  download: {
    letters: [
      ['r', 'read'],
      ['l', 'list'],
    ],
    why: 'needed to download',
  },
};

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Every problem of a container SAS URL for the given use; empty when it will work. */
export function checkSasUrl(url: string, need: SasNeed, now: Date, opts: SasCheckOptions = {}): string[] {
  const problems: string[] = [];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ['the SAS URL is not a valid URL (expected https://<account>.blob.core.windows.net/<container>?<sas>)'];
  }
  const shown = describeSasUrl(url);
  const q = u.searchParams;
  const loopback = isLoopbackHost(u.hostname);

  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && (loopback || opts.allowHttp))) {
    problems.push(`the SAS URL must use https (got ${shown}); plain http is accepted only for a local emulator`);
  }
  if (u.protocol === 'http:' && q.get('spr') === 'https') {
    problems.push('the SAS allows https only (spr=https) but the URL uses http; the storage service will refuse it');
  }

  const { segments } = containerPathSegments(u);
  if (segments.length === 0) {
    problems.push(`the SAS URL names no container (${shown}); use the URL of a container`);
  } else if (segments.length > 1) {
    problems.push(`the SAS URL points at a blob (${shown}), not a container; use the container's URL`);
  }

  if (!q.get('sig')) {
    problems.push('the SAS URL has no signature (sig); copy the whole URL including its query string');
    return problems;
  }

  const isAccountSas = q.has('ss') || q.has('srt');
  if (isAccountSas) {
    if (!(q.get('ss') ?? '').includes('b'))
      problems.push('the account SAS does not cover the blob service (ss lacks b)');
    const srt = q.get('srt') ?? '';
    const needTypes = need === 'upload' ? ['o'] : ['c', 'o'];
    const missing = needTypes.filter((t) => !srt.includes(t));
    if (missing.length) {
      problems.push(
        `the account SAS lacks resource types ${missing.map((t) => (t === 'o' ? 'object (o)' : 'container (c)')).join(' and ')} (srt)`,
      );
    }
  } else {
    const sr = q.get('sr');
    if (sr === 'b' || sr === 'bv' || sr === 'bs') {
      problems.push('the SAS is for a single blob (sr=b), not a container (sr=c); create a container SAS');
    } else if (sr !== 'c') {
      problems.push(`the SAS is not a container SAS (sr=${sr ?? 'missing'}; expected sr=c)`);
    }
  }

  const sp = q.get('sp');
  if (sp === null && !q.has('si')) {
    problems.push('the SAS has no permissions (sp)');
  } else if (sp !== null) {
    const { letters, why } = NEEDS[need];
    const missing = letters.filter(([l]) => !sp.includes(l));
    if (missing.length) {
      const names = missing.map(([l, n]) => `${n} (${l})`).join(' and ');
      problems.push(`the SAS lacks ${names} permission${missing.length > 1 ? 's' : ''} ${why}`);
    }
  }

  const se = q.get('se');
  if (se === null) {
    if (!q.has('si')) problems.push('the SAS has no expiry time (se)');
  } else {
    const expiry = new Date(se);
    if (Number.isNaN(expiry.getTime())) {
      problems.push(`the SAS expiry time (se=${se}) is not a date`);
    } else if (expiry.getTime() <= now.getTime()) {
      problems.push(`the SAS expired at ${iso(expiry)}`);
    } else if (opts.until && expiry.getTime() < opts.until.getTime()) {
      problems.push(
        `the SAS expires at ${iso(expiry)}, before the capture ends at ${iso(opts.until)}; create one that lasts longer`,
      );
    }
  }
  const st = q.get('st');
  if (st !== null) {
    const start = new Date(st);
    if (Number.isNaN(start.getTime())) problems.push(`the SAS start time (st=${st}) is not a date`);
    else if (start.getTime() > now.getTime()) {
      problems.push(`the SAS is not valid until ${iso(start)}; check its start time or this machine's clock`);
    }
  }
  return problems;
}
