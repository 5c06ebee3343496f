import { t } from '../i18n/i18n.js';
import { toast } from '../ui/toast.js';
import { alertIfHidden } from './alert.js';
import { onFrame } from './channel.js';

// Frames that only tell the user something happened: a toast, and an alert in a hidden tab.
onFrame('deal.assigned', (f) => {
  const text = t('notice.dealAssigned', { title: String(f.title ?? '') });
  toast(text);
  alertIfHidden(t('app.title'), text, `deal-${String(f.dealId)}`);
});
onFrame('lead.new', (f) => {
  const text = t('notice.leadNew', { name: String(f.name ?? f.phone ?? '') });
  toast(text);
  alertIfHidden(t('app.title'), text, `lead-${String(f.leadId)}`);
});
onFrame('call.reviewed', () => toast(t('notice.callReviewed')));
onFrame('review.comment', () => toast(t('notice.reviewComment')));
onFrame('security.scraping', (f) => toast(t('notice.scraping', { name: String((f.user as { name?: string } | undefined)?.name ?? '') }), 'error'));
