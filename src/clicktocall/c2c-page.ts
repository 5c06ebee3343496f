// The page GET /c2c answers in a browser tab: one sentence, no script, no external resources.
import { parsePhoneNumberFromString } from 'libphonenumber-js';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** `+7 916 123 45 67` for the eye; the E.164 form if the formatter cannot. */
export function prettyNumber(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:32em;padding:0 1em">${body}</body></html>
`;
}

export function callingPage(e164: string, clientName: string | null): string {
  const who = clientName ? ` (${escapeHtml(clientName)})` : '';
  return page('Calling…', `<h1>Calling ${escapeHtml(prettyNumber(e164))}${who}</h1><p>Pick up your phone: it rings first, then the call goes out.</p>`);
}

export function errorPage(status: number, message: string): string {
  const title = status === 503 ? 'The phone system is unavailable' : status === 429 ? 'Too many calls' : 'The call was not placed';
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

/** Headers of every /c2c page: the token in the URL must not leak through Referer, the page
 *  must not be cached (it starts a call) nor framed, and it loads nothing. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
} as const;

/**
 * GET /c2c without a usable token (the console's tel: handler, registered with no token in its
 * URL so that it survives the token's expiry): the tab goes on to the console, which calls with
 * the session it holds or asks to sign in first. Nothing is dialled from here.
 */
export function consoleHandoffPage(number: string | undefined): string {
  const target = `/#/call${number ? `?to=${encodeURIComponent(number)}` : ''}`;
  const link = escapeHtml(target);
  return page('Switchboard', `<meta http-equiv="refresh" content="0;url=${link}"><h1>Opening Switchboard…</h1><p><a href="${link}">Continue in the console</a> to place the call.</p>`);
}
