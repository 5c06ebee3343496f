import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { codeText, fmtDateTime, fmtSeconds, t } from '../i18n/i18n.js';
import { Phone } from '../ui/Phone.js';
import { toast } from '../ui/toast.js';
import { RecordingPlayer } from './RecordingPlayer.js';

type Call = Answer<'/api/calls/', 'get'>['items'][number];

/** Calls with filters and their recordings (what the viewer may see: the server decides). */
export default function CallsScreen() {
  const [direction, setDirection] = useState('');
  const [withRecording, setWithRecording] = useState(false);
  const [calls, setCalls] = useState<Call[] | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  useEffect(() => {
    const query = { limit: 100, ...(direction && { direction: direction as 'inbound' }), ...(withRecording && { withRecording: true }) };
    api.GET('/api/calls/', { params: { query } }).then(ok).then((r) => setCalls(r.items), (e: Error) => toast(t('common.error', { message: e.message }), 'error'));
  }, [direction, withRecording]);
  return (
    <section>
      <h2>{t('calls.title')}</h2>
      <div class="filters">
        <select name="direction" value={direction} onChange={(e) => setDirection(e.currentTarget.value)}>
          <option value="">{t('common.all')}</option>
          <option value="inbound">{t('call.inbound')}</option>
          <option value="outbound">{t('call.outbound')}</option>
        </select>
        <label>
          <input type="checkbox" name="withRecording" checked={withRecording} onChange={(e) => setWithRecording(e.currentTarget.checked)} /> {t('calls.withRecording')}
        </label>
      </div>
      <table>
        <tbody>
          {calls?.map((c) => (
            <tr key={c.id} data-testid="call-row">
              <td>{fmtDateTime(c.startedAt)}</td>
              <td>{codeText('dir', c.direction)}</td>
              <td>{c.number && <Phone number={c.number} {...(c.clientId && { clientId: c.clientId })} />}</td>
              <td>{c.clientId && <a href={`#/clients/${c.clientId}`}>#{c.clientId}</a>}</td>
              <td>{codeText('disp', c.disposition)}</td>
              <td>{fmtSeconds(c.talkSeconds)}</td>
              <td>{c.recordingUrl && (open === c.id ? <RecordingPlayer callId={c.id} /> : <button onClick={() => setOpen(c.id)}>{t('calls.play')}</button>)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
