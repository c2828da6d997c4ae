// The fake's copy of zpair-core's import reader (zpair_core::import_file):
// a CSV sheet with a header row, or the monitors' exported JSON, read into
// records with the line each came from, and the lines that could not be read.
// Rust reads the file in the app; the fake reads it the same way so the dry
// run the UI shows has the same rows, lines and messages.
import type { DeviceImport } from '../src/bindings/DeviceImport';
import type { UnreadableRow } from '../src/bindings/UnreadableRow';
import { Refusal } from './fake-common';

/** The firmware version of a record that gives none (zpair_core::import_file::UNKNOWN_FIRMWARE). */
export const UNKNOWN_FIRMWARE = 'unknown';

export interface ImportFile {
  format: 'csv' | 'json';
  records: { line: number; device: DeviceImport }[];
  unreadable: UnreadableRow[];
}

const COLUMNS = [
  'deviceId',
  'deviceSerial',
  'identityPublicKey',
  'ipAddress',
  'deviceLabel',
  'bedId',
  'firmwareVersion',
] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: readonly Column[] = ['deviceId', 'deviceSerial', 'identityPublicKey'];

const refuse = (message: string) => new Refusal('invalid_input', message);

/** By the file name's extension, else by the content. */
export function detect(fileName: string, text: string): 'csv' | 'json' {
  const extension = fileName.includes('.') ? fileName.split('.').pop()?.toLowerCase() : undefined;
  if (extension === 'csv') return 'csv';
  if (extension === 'json' || extension === 'jsonl' || extension === 'ndjson') return 'json';
  return /^\s*[[{]/.test(stripBom(text)) ? 'json' : 'csv';
}

export function readImportFile(fileName: string, text: string): ImportFile {
  const body = stripBom(text);
  if (body.trim() === '') {
    throw refuse('The import file is empty. Choose a CSV file with a header row, or the monitors\' exported JSON.');
  }
  return detect(fileName, text) === 'csv' ? readCsv(body) : readJson(body);
}

function stripBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** `A`, `B`, … `Z`, `AA`: a spreadsheet's name for column `index` (from 0). */
function letter(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

function columnOf(header: string): Column | undefined {
  const key = header.replace(/[^\p{L}\p{N}]/gu, '').toLowerCase();
  if (key === 'identitykey') return 'identityPublicKey';
  return COLUMNS.find((column) => column.toLowerCase() === key);
}

/** RFC 4180 rows, each with the line it starts on. */
function csvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let line = 1;
  let start = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    cells.push(cell);
    rows.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text.charAt(i + 1) === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else {
        if (c === '\n') line += 1;
        cell += c;
      }
      i += 1;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\r' && text.charAt(i + 1) === '\n') {
      i += 1;
      continue;
    } else if (c === '\n') {
      endRow();
      line += 1;
      start = line;
    } else cell += c;
    i += 1;
  }
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

const blank = (cells: string[]) => cells.every((cell) => cell.trim() === '');

function readCsv(text: string): ImportFile {
  const rows = csvRows(text).filter((row) => !blank(row.cells));
  const header = rows.shift();
  if (header === undefined) {
    throw refuse('The import file is empty. Choose a CSV file with a header row, or the monitors\' exported JSON.');
  }
  const positions: [Column, number][] = [];
  header.cells.forEach((name, index) => {
    const column = columnOf(name);
    if (column === undefined) {
      throw refuse(
        `Line 1, column ${letter(index)}: "${name.trim()}" is not a column ZPair reads. Rename or remove it; the columns are deviceId, deviceSerial, identityPublicKey, ipAddress, deviceLabel, bedId and firmwareVersion.`,
      );
    }
    const first = positions.find(([c]) => c === column);
    if (first !== undefined) {
      throw refuse(
        `Line 1: the header names the ${column} column twice (columns ${letter(first[1])} and ${letter(index)}). Keep one.`,
      );
    }
    positions.push([column, index]);
  });
  const missing = REQUIRED.find((column) => !positions.some(([c]) => c === column));
  if (missing !== undefined) {
    throw refuse(
      `The CSV header has no ${missing} column. The header row must name deviceId, deviceSerial and identityPublicKey (and may name ipAddress, deviceLabel, bedId, firmwareVersion).`,
    );
  }
  const width = header.cells.length;
  const file: ImportFile = { format: 'csv', records: [], unreadable: [] };
  for (const { line, cells } of rows) {
    const problem = csvProblem(cells, width, positions, line);
    if (typeof problem === 'string') file.unreadable.push({ line, message: problem });
    else file.records.push({ line, device: problem });
  }
  return file;
}

function csvProblem(cells: string[], width: number, positions: [Column, number][], line: number): string | DeviceImport {
  if (cells.length < width) {
    const missing = positions.filter(([, at]) => at >= cells.length).map(([c]) => c);
    return `Line ${String(line)}: ${String(cells.length)} values for the header's ${String(width)} columns; ${missing.join(', ')} missing. Give every column a value (empty is fine for the optional ones).`;
  }
  if (cells.length > width) {
    return `Line ${String(line)}: ${String(cells.length)} values for the header's ${String(width)} columns (from column ${letter(width)} on there is no header). Is a comma inside a value? Put that value in double quotes.`;
  }
  const fields: Partial<Record<Column, string>> = {};
  for (const [column, at] of positions) {
    const raw = cells[at] ?? '';
    if (/[\r\n]/.test(raw)) {
      return `Line ${String(line)}, column ${letter(at)} (${column}): the value runs over several lines. Is a closing double quote missing?`;
    }
    const value = raw.trim();
    if (value === '') {
      if (REQUIRED.includes(column)) {
        return `Line ${String(line)}, column ${letter(at)} (${column}): empty. Every monitor needs its ${column}.`;
      }
      continue;
    }
    fields[column] = value;
  }
  const device: DeviceImport = {
    deviceId: fields.deviceId ?? '',
    deviceSerial: fields.deviceSerial ?? '',
    identityPublicKey: fields.identityPublicKey ?? '',
    firmwareVersion: fields.firmwareVersion ?? UNKNOWN_FIRMWARE,
  };
  if (fields.ipAddress !== undefined) device.ipAddress = fields.ipAddress;
  if (fields.deviceLabel !== undefined) device.deviceLabel = fields.deviceLabel;
  if (fields.bedId !== undefined) device.bedId = fields.bedId;
  return device;
}

function readJson(text: string): ImportFile {
  let values: unknown[];
  try {
    const whole: unknown = JSON.parse(text);
    values = Array.isArray(whole) ? whole : [whole];
  } catch {
    // One record per line, as the monitors' exports concatenated.
    values = [];
    for (const [index, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        values.push(...(Array.isArray(value) ? (value as unknown[]) : [value]));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw refuse(
          `Line ${String(index + 1)}, column 1: the JSON could not be read (${reason}). The file must hold registration records as \`bedside-monitor export\` prints them: one object, an array, or one object per line.`,
        );
      }
    }
  }
  const file: ImportFile = { format: 'json', records: [], unreadable: [] };
  values.forEach((value, index) => {
    const line = index + 1;
    const device = jsonRecord(value);
    if (typeof device === 'string') file.unreadable.push({ line, message: `Record ${String(line)}: ${device}` });
    else file.records.push({ line, device });
  });
  return file;
}

function jsonRecord(value: unknown): string | DeviceImport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'not a registration record (an object with deviceId, deviceSerial, identityPublicKey…).';
  }
  const fields = value as Record<string, unknown>;
  for (const name of ['deviceId', 'deviceSerial', 'identityPublicKey'] as const) {
    if (!(name in fields)) return `missing field \`${name}\`.`;
    if (typeof fields[name] !== 'string') return `invalid type for \`${name}\`, expected a string.`;
  }
  const optional = (name: string): string | undefined => {
    const v = fields[name];
    return typeof v === 'string' ? v : undefined;
  };
  const firmware = optional('firmwareVersion');
  const device: DeviceImport = {
    deviceId: fields.deviceId as string,
    deviceSerial: fields.deviceSerial as string,
    identityPublicKey: fields.identityPublicKey as string,
    firmwareVersion: firmware === undefined || firmware.trim() === '' ? UNKNOWN_FIRMWARE : firmware,
  };
  const ip = optional('ipAddress');
  const label = optional('deviceLabel');
  const bed = optional('bedId');
  if (ip !== undefined) device.ipAddress = ip;
  if (label !== undefined) device.deviceLabel = label;
  if (bed !== undefined) device.bedId = bed;
  return device;
}
