/** Reading one line of a delimited export (CSV, a European `;` file, a tab-separated file). */

export const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export const DELIMITER_NAMES: Readonly<Record<Delimiter, string>> = {
  ',': 'comma',
  ';': 'semicolon',
  '\t': 'tab',
};

/**
 * The delimiter of a file, from its first line: a tab, else a semicolon (spreadsheets in
 * locales with a decimal comma write `;`), else a comma. Quoted text does not count.
 */
export function detectDelimiter(line: string): Delimiter {
  const unquoted = line.replace(/"(?:[^"]|"")*"/g, '');
  if (unquoted.includes('\t')) return '\t';
  if (unquoted.includes(';')) return ';';
  return ',';
}

/** Splits a line (RFC 4180 quoting: a quoted field may hold the delimiter, `""` is a quote); fields trimmed. */
export function splitFields(line: string, delimiter: Delimiter = ','): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === delimiter) {
      fields.push(field.trim());
      field = '';
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// 5,2 or 1.234,5 (a thousands dot): a number as a locale with a decimal comma writes it.
const DECIMAL_COMMA = /^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$/;

/** `5,2` → `5.2` and `1.234,5` → `1234.5`; anything else unchanged. */
export function fromDecimalComma(field: string): string {
  if (!DECIMAL_COMMA.test(field)) return field;
  return field.replaceAll('.', '').replace(',', '.');
}

export function isDecimalComma(field: string): boolean {
  return DECIMAL_COMMA.test(field);
}
