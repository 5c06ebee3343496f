import path from 'node:path';

/** `type/subtype` without parameters, lower-case; '' when absent. */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

export function parseAllowedTypes(list: string): ReadonlySet<string> {
  return new Set(list.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/**
 * The name to keep and to offer on download: the last path segment only (browsers on Windows
 * send `C:\fakepath\…`), no control characters or quotes (it goes into Content-Disposition),
 * at most 200 characters; `file` when nothing is left.
 */
export function cleanFileName(raw: string | undefined): string {
  const base = path.win32.basename(path.posix.basename(raw ?? ''));
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f"\\]/g, '').trim().slice(0, 200);
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}

/**
 * Content-Disposition for a download: an ASCII fallback plus the UTF-8 name (RFC 6266/5987), so a
 * "Договор.pdf" keeps its name. `attachment`: an uploaded HTML-looking text is never rendered.
 */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
