import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { unknownDidNotice } from '../../src/routing/unknown-did-notice.js';

describe('the start-up notice about dialled numbers no department lists', () => {
  it('says nothing when DEFAULT_DEPARTMENT covers them', () => {
    expect(unknownDidNotice(loadConfig({ DEFAULT_DEPARTMENT: 'Reception' }))).toBeNull();
  });

  it('names the FALLBACK_DIAL line, its ring time and what follows it', () => {
    const notice = unknownDidNotice(loadConfig({ FALLBACK_DIAL: 'PJSIP/100' }));
    expect(notice).toMatch(/rings FALLBACK_DIAL \(PJSIP\/100\) for 30 s, then goes to the dialplan's own fallback/);
  });

  it('says that the dialplan takes the call, and that without its globals the call ends', () => {
    const notice = unknownDidNotice(loadConfig({}));
    expect(notice).toMatch(/goes straight to the dialplan's own fallback \(it dials SWITCHBOARD_FALLBACK_DIAL, then SWITCHBOARD_FALLBACK_MAILBOX/);
    expect(notice).toMatch(/with neither set .* the call ends there/);
    expect(notice).not.toMatch(/hung up|hangup/i);
  });
});
