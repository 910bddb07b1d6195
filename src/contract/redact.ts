// Secrets never reach a log, a manifest or a termination message: everything passes here first.

const RULES: [RegExp, string][] = [
  // SAS signature (and the whole query of a SAS URL, which is a bearer credential).
  [/([?&]sig=)[^&\s"']+/gi, '$1REDACTED'],
  [/(AccountKey=)[^;\s"']+/gi, '$1REDACTED'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1REDACTED'],
  [
    /("?(?:token|access-token|id-token|refresh-token|client-key-data|password|secret)"?\s*[:=]\s*"?)[^"\s,}]+/gi,
    '$1REDACTED',
  ],
  [/(s3-secret-access-key["']?\s*[:=]\s*["']?)[^"'\s,}]+/gi, '$1REDACTED'],
];

export function redact(text: string): string {
  let out = text;
  for (const [re, rep] of RULES) out = out.replace(re, rep);
  return out;
}

/** A SAS URL safe to show: account, container and blob path, no query. */
export function describeSasUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}
