// A plain HTML form on the company's website (no script) posts
// `application/x-www-form-urlencoded` and the browser shows whatever comes back. So such a post
// is read into the same lead fields as the JSON one, and answered with a way back to the site.
import type { FastifyInstance } from 'fastify';

/** A form is a few fields; a bigger body is not one (413 from Fastify). */
const FORM_BODY_LIMIT = 32 * 1024;
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Form field names as site builders write them, to the lead's own names. */
const ALIASES: Record<string, string> = { page_url: 'pageUrl', pageurl: 'pageUrl', url: 'pageUrl', tel: 'phone', e_mail: 'email', mail: 'email', comment: 'message', text: 'message' };
const UTM = ['source', 'medium', 'campaign', 'term', 'content'] as const;

/** The form's fields as a lead body: `utm_source=…` into `utm`, known aliases renamed, the rest kept. */
export function leadFromForm(form: URLSearchParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const utm: Record<string, string> = {};
  for (const [rawName, value] of form) {
    const name = rawName.trim().toLowerCase();
    const utmKey = UTM.find((k) => name === `utm_${k}`);
    const field = ALIASES[name] ?? rawName;
    // A repeated field keeps its first value, as the JSON post has one.
    if (utmKey) utm[utmKey] ??= value;
    else if (!(field in body)) body[field] = value;
  }
  if (Object.keys(utm).length > 0) body.utm = utm;
  return body;
}

export function registerFormPosts(app: FastifyInstance): void {
  app.addContentTypeParser(FORM_TYPE, { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, text, done) => {
    done(null, leadFromForm(new URLSearchParams(text as string)));
  });
}

export const isFormPost = (contentType: string | undefined): boolean => (contentType ?? '').toLowerCase().startsWith(FORM_TYPE);

/**
 * Where the visitor goes after a form post: the form's `redirect` field or the page they came
 * from (the Referer), when it is on the site's own origin (never elsewhere: an open redirect
 * would lend the company's name to anybody's link); null for none, and the thank-you page shows.
 */
export function backToSite(allowedOrigin: string, candidates: Array<unknown>): string | null {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || candidate === '') continue;
    try {
      const url = new URL(candidate);
      if (url.origin === allowedOrigin) return url.href;
    } catch {
      // not a URL: try the next
    }
  }
  return null;
}

/** The page a visitor sees after a form post with nowhere to go back to, in both languages. */
export const THANK_YOU_PAGE = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Спасибо! Thank you!</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:4em auto;line-height:1.5">
<p lang="ru">Спасибо! Ваша заявка принята, мы скоро свяжемся с вами.</p>
<p lang="en">Thank you! Your request has been received; we will be in touch soon.</p>
</body></html>`;
