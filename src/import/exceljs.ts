import { createRequire, Module } from 'node:module';

// exceljs 4.4.0 (the latest release) with one fix: its SAX feed decodes each zip chunk to text on
// its own (lib/utils/parse-sax.js, `bufferToString(chunk)`), so a Cyrillic letter whose two bytes
// fall in two chunks becomes two U+FFFD — about one cell in a thousand of a large sheet
// (`ООО "Компан��я 515"`). The same generator with a streaming TextDecoder is put in require's
// cache before exceljs loads it. Import exceljs only through this file.

const require = createRequire(import.meta.url);
const parseSaxPath = require.resolve('exceljs/lib/utils/parse-sax.js');
const fromExceljs = createRequire(parseSaxPath);
const { SaxesParser } = fromExceljs('saxes') as { SaxesParser: new () => SaxParser };
const { PassThrough } = fromExceljs('readable-stream') as typeof import('node:stream');

interface SaxParser {
  on(event: string, handler: (value: unknown) => void): void;
  write(text: string): void;
}

type Chunks = AsyncIterable<Buffer | string>;

async function* parseSax(input: Chunks | NodeJS.ReadableStream) {
  // An old-style stream without async iteration is piped through one that has it (as upstream).
  const iterable: Chunks = Symbol.asyncIterator in input ? (input as Chunks) : ((input as NodeJS.ReadableStream).pipe(new PassThrough()) as unknown as Chunks);
  const parser = new SaxesParser();
  let error: unknown;
  parser.on('error', (err) => (error = err));
  let events: { eventType: string; value: unknown }[] = [];
  parser.on('opentag', (value) => events.push({ eventType: 'opentag', value }));
  parser.on('text', (value) => events.push({ eventType: 'text', value }));
  parser.on('closetag', (value) => events.push({ eventType: 'closetag', value }));
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of iterable) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (error) throw error;
    yield events;
    events = [];
  }
}

if (!require.cache[parseSaxPath]) {
  const fixed = new Module(parseSaxPath);
  fixed.filename = parseSaxPath;
  fixed.loaded = true;
  fixed.exports = parseSax;
  require.cache[parseSaxPath] = fixed;
}

const ExcelJS = require('exceljs') as typeof import('exceljs');
export default ExcelJS;
