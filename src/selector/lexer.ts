// Splits selector text into tokens on demand, so the parser reports the first problem in reading order.
// Never throws: a lexical problem becomes an "error" token carrying its message.

export type TokenKind =
  | "word" // label key or keyword (in, not, contains, starts, ends, with, all, global, has)
  | "string" // quoted value; `value` holds the text between the quotes
  | "=="
  | "!="
  | "!"
  | "&&"
  | "||"
  | "("
  | ")"
  | "{"
  | "}"
  | ","
  | "end"
  | "error"; // `value` holds the message, `start` the offending offset

export interface Token {
  readonly kind: TokenKind;
  /** 0-based offset of the first character. */
  readonly start: number;
  /** 0-based offset just past the last character. */
  readonly end: number;
  readonly value: string;
}

const WORD_CHAR = /[A-Za-z0-9_./-]/;
const SPACE = /\s/;

/** Shows a character in a message; invisible ones as U+XXXX. */
export function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code > 0x20 && code !== 0x7f && !SPACE.test(ch)
    ? `'${ch}'`
    : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

export class Lexer {
  private pos = 0;
  private lookahead: Token | undefined;

  constructor(private readonly src: string) {}

  peek(): Token {
    this.lookahead ??= this.scan();
    return this.lookahead;
  }

  next(): Token {
    const token = this.peek();
    // Errors and the end are sticky: asking again yields the same token.
    if (token.kind !== "end" && token.kind !== "error") this.lookahead = undefined;
    return token;
  }

  private scan(): Token {
    const src = this.src;
    while (this.pos < src.length && SPACE.test(src[this.pos]!)) this.pos++;
    const start = this.pos;
    if (start >= src.length) return { kind: "end", start, end: start, value: "" };
    const ch = src[start]!;
    const after = src[start + 1];

    if (WORD_CHAR.test(ch)) {
      let end = start + 1;
      while (end < src.length && WORD_CHAR.test(src[end]!)) end++;
      return this.token("word", start, end, src.slice(start, end));
    }
    if (ch === "'" || ch === '"') {
      const close = src.indexOf(ch, start + 1);
      if (close < 0) return this.error(start, `unterminated string: no closing ${ch} for this quote`);
      return this.token("string", start, close + 1, src.slice(start + 1, close));
    }
    if (ch === "=") {
      if (after === "=") return this.token("==", start, start + 2, "==");
      return this.error(start, "unknown operator '='; use '==' to compare");
    }
    if (ch === "!") {
      if (after === "=") return this.token("!=", start, start + 2, "!=");
      return this.token("!", start, start + 1, "!");
    }
    if (ch === "&") {
      if (after === "&") return this.token("&&", start, start + 2, "&&");
      return this.error(start, "unknown operator '&'; use '&&' for 'and'");
    }
    if (ch === "|") {
      if (after === "|") return this.token("||", start, start + 2, "||");
      return this.error(start, "unknown operator '|'; use '||' for 'or'");
    }
    if (ch === "(" || ch === ")" || ch === "{" || ch === "}" || ch === ",") {
      return this.token(ch, start, start + 1, ch);
    }
    const shown = describeChar(String.fromCodePoint(src.codePointAt(start) ?? 0));
    if (start > 0 && WORD_CHAR.test(src[start - 1]!)) {
      return this.error(
        start,
        `invalid character ${shown} in label key (allowed: letters, digits, '-', '_', '.' and one '/' after a DNS prefix)`,
      );
    }
    return this.error(start, `unexpected character ${shown}`);
  }

  private token(kind: TokenKind, start: number, end: number, value: string): Token {
    this.pos = end;
    return { kind, start, end, value };
  }

  private error(start: number, message: string): Token {
    this.pos = this.src.length;
    return { kind: "error", start, end: start, value: message };
  }
}
