import type { ArrayValue, ExecuteStatementCommandOutput, Field } from '@aws-sdk/client-rds-data';

/**
 * Rows as the other adapters return them: timestamps as `Date`, json/jsonb parsed, arrays as arrays, integers
 * as numbers, numeric as its exact text, everything else as text.
 */
export function decodeRecords<T>(
  out: Pick<ExecuteStatementCommandOutput, 'records' | 'columnMetadata'>,
): T[] {
  const columns = out.columnMetadata ?? [];
  return (out.records ?? []).map((record) => {
    const row: Record<string, unknown> = {};
    columns.forEach((column, i) => {
      row[column.label ?? column.name ?? `column${i}`] = decodeField(record[i], column.typeName ?? '');
    });
    return row as T;
  });
}

export function decodeField(field: Field | undefined, typeName: string): unknown {
  if (!field || field.isNull) return null;
  if (field.arrayValue) return decodeArray(field.arrayValue, typeName.replace(/^_/, ''));
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue);
  const text = field.stringValue ?? '';
  return decodeText(text, typeName);
}

function decodeText(text: string, typeName: string): unknown {
  switch (typeName) {
    case 'timestamptz':
    case 'timestamp':
      // The Data API gives timestamps in UTC without an offset ("2026-12-06 18:00:00.123").
      return new Date(
        /[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`,
      );
    case 'json':
    case 'jsonb':
      return JSON.parse(text);
    case 'int2':
    case 'int4':
    case 'int8':
      return Number(text);
    case 'float4':
    case 'float8':
      return Number(text);
    case 'bool':
      return text === 't' || text === 'true';
    default:
      return text;
  }
}

function decodeArray(array: ArrayValue, elementType: string): unknown[] {
  if (array.arrayValues)
    return array.arrayValues.map((inner) => (inner ? decodeArray(inner, elementType) : null));
  if (array.stringValues)
    return array.stringValues.map((v) => (v === null ? null : decodeText(v, elementType)));
  return array.longValues ?? array.doubleValues ?? array.booleanValues ?? [];
}
