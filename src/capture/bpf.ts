// Cheap syntactic checks of a BPF expression, so the obvious mistakes are reported in the form
// instead of minutes later by a failed Job. The worker compiles the real thing with libpcap.

/** Retina's CRD limit for pcapFilter. */
export const FILTER_MAX_LENGTH = 1024;

type Tok = { kind: 'open' | 'close' | 'binop' | 'not' | 'word'; text: string };

function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  // Parentheses inside [...] belong to arithmetic (`tcp[((tcp[12] & 0xf0) >> 2)]`): keep them in the word.
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      toks.push({ kind: c === '(' ? 'open' : 'close', text: c });
      i++;
    } else {
      let depth = 0;
      let j = i;
      while (j < text.length) {
        const d = text[j] as string;
        if (d === '[') depth++;
        else if (d === ']') depth = Math.max(0, depth - 1);
        else if (depth === 0 && (/\s/.test(d) || d === '(' || d === ')')) break;
        j++;
      }
      const word = text.slice(i, j);
      const lower = word.toLowerCase();
      if (lower === 'and' || lower === 'or' || word === '&&' || word === '||') toks.push({ kind: 'binop', text: word });
      else if (lower === 'not' || word === '!') toks.push({ kind: 'not', text: word });
      else toks.push({ kind: 'word', text: word });
      i = j;
    }
  }
  return toks;
}

/**
 * The first obvious error in a BPF expression, or undefined when it looks plausible.
 * Catches: flags (`-i eth0`), unbalanced or empty parentheses, an operator with a missing
 * operand (`tcp and`, `and tcp`, `tcp and or udp`, `not`), overlong text.
 */
export function filterProblem(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (t.length > FILTER_MAX_LENGTH) return `is ${t.length} characters long; the limit is ${FILTER_MAX_LENGTH}`;
  if (/(^|\s)-{1,2}[A-Za-z]/.test(t))
    return 'contains what looks like a tcpdump flag (e.g. -i); only a BPF expression is allowed';
  const toks = tokenize(t);
  let depth = 0;
  // `expectOperand` is true where an operand must come next: at the start, after '(', 'and', 'not'.
  let expectOperand = true;
  let prev: Tok | undefined;
  for (const tok of toks) {
    switch (tok.kind) {
      case 'open':
        // `host (a or b)` is valid libpcap shorthand, so '(' may follow a word.
        depth++;
        expectOperand = true;
        break;
      case 'close':
        if (depth === 0) return 'has a ")" without a matching "("';
        if (prev?.kind === 'open') return 'has empty parentheses "()"';
        if (expectOperand) return `"${prev?.text}" is missing its right-hand side before ")"`;
        depth--;
        break;
      case 'binop':
        if (expectOperand) {
          return prev ? `"${prev.text} ${tok.text}": "${tok.text}" has no left-hand side` : `starts with "${tok.text}"`;
        }
        expectOperand = true;
        break;
      case 'not':
        if (!expectOperand) return `missing "and"/"or" before "${tok.text}"`;
        break;
      case 'word':
        // Consecutive words are normal BPF (`tcp port 80`, `src host 10.0.0.1`).
        expectOperand = false;
        break;
    }
    prev = tok;
  }
  if (depth > 0) return `has ${depth} unclosed "("`;
  if (expectOperand && prev) return `ends with "${prev.text}", which needs something after it`;
  return undefined;
}
