// Secrets never reach a log, a manifest or a termination message: everything passes here first.

const RULES: [RegExp, string][] = [
  // SAS signature (and the whole query of a SAS URL, which is a bearer credential), also when the
  // URL was itself URL-encoded into another one (`%3Fsig%3D…`, `%26sig%3D…`).
  [/([?&]sig=)[^&\s"']+/gi, '$1REDACTED'],
  [/((?:%3F|%26|[?&])sig%3D)(?:[^&%\s"']|%(?!26)[0-9a-f]{2})+/gi, '$1REDACTED'],
  [/(AccountKey=)[^;\s"']+/gi, '$1REDACTED'],
  [/(AccountKey%3D)(?:[^;%\s"']|%(?!3B)[0-9a-f]{2})+/gi, '$1REDACTED'],
  // HTTP auth schemes are case-insensitive (`bearer`, `BEARER`).
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1REDACTED'],
  // A JWT on its own (service-account and OIDC tokens): three base64url parts, the header `eyJ…`.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, 'REDACTED-JWT'],
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
