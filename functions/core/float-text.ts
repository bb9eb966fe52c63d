/**
 * Numbers printed exactly as the two seed jobs print them, so that our `--flink-lines` output can
 * be compared with a Flink job's log byte for byte.
 *
 * Both languages print the shortest decimal that reads back as the same double (Python's
 * `repr`, Java's `Double.toString` since JDK 19), which is what JavaScript's `toExponential()`
 * without an argument gives as digits; they differ only in where they switch to scientific
 * notation and how they write it.
 */

interface ShortestDigits {
  readonly negative: boolean;
  /** The significant digits, without a decimal point: "1125" for 112.5. */
  readonly digits: string;
  /** The decimal exponent of the first digit: 2 for 112.5 (1.125e2). */
  readonly exponent: number;
}

function shortestDigits(value: number): ShortestDigits {
  // `toExponential()` with no argument: "as many digits as necessary to represent the value
  // uniquely" (ECMA-262, Number.prototype.toExponential), i.e. the shortest round-trip digits.
  const text = Math.abs(value).toExponential();
  const [mantissa = '0', exp = '0'] = text.split('e');
  return {
    negative: value < 0 || Object.is(value, -0),
    digits: mantissa.replace('.', ''),
    exponent: Number(exp),
  };
}

/** Fixed notation of shortest digits: "112.5", "0.001", "150" (no forced fraction). */
function fixed(d: ShortestDigits): string {
  const { digits, exponent } = d;
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return digits + '0'.repeat(exponent + 1 - digits.length);
  return `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/**
 * Python's `repr(float)` (and `str`, `f"{v}"`): fixed notation with at least one fractional
 * digit when the decimal exponent is in [-4, 16), else `d.ddde±XX` with a two-digit exponent at
 * least ("1e+16", "1.5e-05"); "inf", "-inf", "nan".
 */
export function pythonRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  const d = shortestDigits(value);
  const sign = d.negative ? '-' : '';
  if (d.exponent >= -4 && d.exponent < 16) {
    const text = fixed(d);
    return sign + (text.includes('.') ? text : `${text}.0`);
  }
  const mantissa = d.digits.length === 1 ? d.digits : `${d.digits[0]}.${d.digits.slice(1)}`;
  const expSign = d.exponent < 0 ? '-' : '+';
  return `${sign}${mantissa}e${expSign}${String(Math.abs(d.exponent)).padStart(2, '0')}`;
}

/**
 * Java's `Double.toString(double)` as specified since JDK 19 (shortest digits): fixed notation
 * with at least one fractional digit for 10⁻³ ≤ |v| < 10⁷, else `d.dddE±n` with at least one
 * fractional digit ("1.0E7", "1.5E-5"); "Infinity", "-Infinity", "NaN". JDKs before 19 sometimes
 * print one digit more than the shortest (JDK-4511638); a log from such a JDK can differ in the
 * last digit, and the parity check then matches the number by value.
 */
export function javaDoubleToString(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const d = shortestDigits(value);
  const sign = d.negative ? '-' : '';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = fixed(d);
    return sign + (text.includes('.') ? text : `${text}.0`);
  }
  const fraction = d.digits.length === 1 ? '0' : d.digits.slice(1);
  return `${sign}${d.digits[0]}.${fraction}E${d.exponent}`;
}
