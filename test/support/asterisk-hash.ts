/**
 * Reads a CURL() body the way Asterisk 22's `CURLOPT(hashcompat)=yes` does (observed in
 * ../shared/ami-transcripts, curl_hashcompat scenario): the body is split on `&`, each pair on
 * its first `=`, `%XX` is decoded but `+` is NOT turned into a space, a key without `=` reads
 * as "", and a trailing newline is trimmed. Keys keep the order of the body.
 */
export function parseLikeAsterisk(body: string): Record<string, string> {
  const result: Record<string, string> = {};
  const trimmed = body.replace(/\r?\n$/, '');
  if (trimmed === '') return result;
  for (const pair of trimmed.split('&')) {
    const eq = pair.indexOf('=');
    const key = decodePercent(eq === -1 ? pair : pair.slice(0, eq));
    result[key] = eq === -1 ? '' : decodePercent(pair.slice(eq + 1));
  }
  return result;
}

function decodePercent(text: string): string {
  // Byte-wise like ast_uri_decode: collect bytes, then read them as UTF-8.
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      const char = String.fromCodePoint(text.codePointAt(i)!);
      bytes.push(...Buffer.from(char, 'utf8'));
      i += char.length - 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
