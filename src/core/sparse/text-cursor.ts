import { InputError } from "./errors.ts";

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const PERCENT = 37;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** Largest integer a token may spell digit by digit and still be exact in a double. */
const MAX_FAST_DIGITS = 15;

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/** Characters a plain decimal float can contain ("+-.0123456789eE"). */
function isPlainFloatChar(c: number): boolean {
  return isDigit(c) || c === PLUS || c === MINUS || c === DOT || c === 101 || c === 69;
}

const NON_FINITE_TOKEN = /^[+-]?(inf|infinity|nan)$/i;

/**
 * A forward-only cursor over Matrix Market text that reads numbers straight from char codes. Matrix files
 * run to millions of lines; splitting each line with a regex allocates several strings per entry, this does
 * not (only non-integer values are sliced, for an exactly rounded Number()).
 * Line numbers are 1-based and tracked for error messages.
 */
export class TextCursor {
  readonly text: string;
  pos: number;
  lineNo = 1;

  constructor(text: string) {
    this.text = text;
    // A UTF-8 byte order mark decoded as U+FEFF is not part of the banner.
    this.pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  /**
   * Moves to the first token of the next line that is neither blank nor a % comment.
   * Returns false at the end of the text.
   */
  nextContentLine(): boolean {
    const t = this.text;
    const n = t.length;
    let p = this.pos;
    while (p < n) {
      let c = t.charCodeAt(p);
      while (c === SPACE || c === TAB || c === CR) c = t.charCodeAt(++p);
      if (p >= n) break;
      if (c === LF) {
        p++;
        this.lineNo++;
        continue;
      }
      if (c === PERCENT) {
        const nl = t.indexOf("\n", p);
        if (nl < 0) {
          p = n;
          break;
        }
        p = nl + 1;
        this.lineNo++;
        continue;
      }
      this.pos = p;
      return true;
    }
    this.pos = n;
    return false;
  }

  /** The rest of the current line (without the line break); moves to the start of the next line. */
  readRestOfLine(): string {
    const t = this.text;
    const nl = t.indexOf("\n", this.pos);
    const end = nl < 0 ? t.length : nl;
    const line = t.slice(this.pos, end).replace(/\r$/, "");
    this.pos = nl < 0 ? t.length : nl + 1;
    if (nl >= 0) this.lineNo++;
    return line;
  }

  private skipSpaces(): number {
    const t = this.text;
    let p = this.pos;
    let c = t.charCodeAt(p);
    while (c === SPACE || c === TAB) c = t.charCodeAt(++p);
    this.pos = p;
    return c;
  }

  /** True when c ends a token: whitespace, line break or end of text (charCodeAt past the end is NaN). */
  private static endsToken(c: number): boolean {
    return c === SPACE || c === TAB || c === CR || c === LF || Number.isNaN(c);
  }

  private tokenEnd(from: number): number {
    const t = this.text;
    let p = from;
    while (!TextCursor.endsToken(t.charCodeAt(p))) p++;
    return p;
  }

  private parseError(message: string, found?: string): InputError<"parse_error"> {
    return new InputError(
      "parse_error",
      `line ${this.lineNo}: ${message}`,
      found === undefined ? { line: this.lineNo } : { line: this.lineNo, found },
    );
  }

  /** Reads a (signed) integer token. `what` names it in errors, e.g. "row index". */
  readInt(what: string): number {
    const t = this.text;
    let c = this.skipSpaces();
    if (c === CR || c === LF || Number.isNaN(c))
      throw this.parseError(`expected ${what}, but the line ended`);
    let p = this.pos;
    const start = p;
    let negative = false;
    if (c === MINUS || c === PLUS) {
      negative = c === MINUS;
      c = t.charCodeAt(++p);
    }
    const digitsStart = p;
    let value = 0;
    while (isDigit(c)) {
      value = value * 10 + (c - DIGIT_0);
      c = t.charCodeAt(++p);
    }
    if (p === digitsStart || !TextCursor.endsToken(c)) {
      const token = t.slice(start, this.tokenEnd(p));
      throw this.parseError(`expected ${what} (an integer), found "${token}"`, token);
    }
    this.pos = p;
    return negative ? -value : value;
  }

  /**
   * Reads a real number token. Integers of up to 15 digits are converted digit by digit (exact);
   * anything else goes through Number() on the token, which rounds correctly. Fortran exponents
   * ("1.5D+03") are accepted. "inf"/"nan" raise non_finite, other junk parse_error.
   */
  readNumber(what: string): number {
    const t = this.text;
    let c = this.skipSpaces();
    if (c === CR || c === LF || Number.isNaN(c))
      throw this.parseError(`expected ${what}, but the line ended`);
    const start = this.pos;
    let p = start;
    let negative = false;
    if (c === MINUS || c === PLUS) {
      negative = c === MINUS;
      c = t.charCodeAt(++p);
    }
    const digitsStart = p;
    let value = 0;
    while (isDigit(c)) {
      value = value * 10 + (c - DIGIT_0);
      c = t.charCodeAt(++p);
    }
    if (TextCursor.endsToken(c) && p > digitsStart && p - digitsStart <= MAX_FAST_DIGITS) {
      this.pos = p;
      return negative ? -value : value;
    }
    // General path: find the token's end, checking it only holds characters of a decimal float.
    let plain = true;
    let fortranExponent = false;
    while (!TextCursor.endsToken(c)) {
      if (!isPlainFloatChar(c)) {
        if (c === 100 || c === 68) fortranExponent = true;
        else plain = false;
      }
      c = t.charCodeAt(++p);
    }
    const token = t.slice(start, p);
    if (plain) {
      const v = Number(fortranExponent ? token.replace(/[dD]/, "e") : token);
      if (!Number.isNaN(v)) {
        if (!Number.isFinite(v)) {
          throw new InputError("non_finite", `line ${this.lineNo}: ${what} "${token}" overflows a double`, {
            line: this.lineNo,
            value: token,
          });
        }
        this.pos = p;
        return v;
      }
    }
    if (NON_FINITE_TOKEN.test(token)) {
      throw new InputError(
        "non_finite",
        `line ${this.lineNo}: ${what} is "${token}"; values must be finite`,
        {
          line: this.lineNo,
          value: token,
        },
      );
    }
    throw this.parseError(`expected ${what} (a number), found "${token}"`, token);
  }

  /** Requires that nothing but whitespace is left on the current line, then moves to the next line. */
  endLine(expected: string): void {
    const c = this.skipSpaces();
    const t = this.text;
    let p = this.pos;
    if (c === CR) p++;
    const next = t.charCodeAt(p);
    if (next === LF) {
      this.pos = p + 1;
      this.lineNo++;
      return;
    }
    if (Number.isNaN(next)) {
      this.pos = p;
      return;
    }
    const token = t.slice(this.pos, this.tokenEnd(this.pos));
    throw this.parseError(`unexpected "${token}" after ${expected}`, token);
  }
}
