import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import { session } from '../api/session.js';
import type { Answer } from '../api/types.js';
import { codeText, fmtDateTime, fmtNumber, t } from '../i18n/i18n.js';
import { onFrame } from '../live/channel.js';
import { toast } from '../ui/toast.js';

type Job = Answer<'/api/import/jobs/{id}', 'get'>;
type Mapping = Job['mapping'];
const FIELDS = ['name', 'phone', 'email', 'inn', 'contact', 'position', 'owner', 'status', 'segment', 'source', 'comment', 'website', 'address', 'nextContactAt'] as const;
const fail = (err: unknown) => toast(t('common.error', { message: (err as Error).message }), 'error');

/** Clients from CSV/XLSX: upload, the dry-run report, the column mapping, the run with its progress; export. */
export default function ImportScreen() {
  const [job, setJob] = useState<Job | null>(null);
  const [mapping, setMapping] = useState<Mapping>([]);
  const [jobs, setJobs] = useState<Job[]>([]);
  useEffect(() => void api.GET('/api/import/jobs', { params: { query: { limit: 20 } } }).then(ok).then(setJobs, fail), [job?.status]);
  useEffect(() => setMapping(job?.mapping ?? []), [job?.id, job?.status === 'checked' ? job.report : null]);
  // Progress comes live (import.progress frames); a poll every 2 s covers a lost frame.
  useEffect(() => {
    if (!job || !['queued', 'running'].includes(job.status)) return;
    const refresh = () => api.GET('/api/import/jobs/{id}', { params: { path: { id: job.id } } }).then(ok).then(setJob, fail);
    const off = onFrame('import.progress', (f) => f.importId === job.id && void refresh());
    const timer = setInterval(refresh, 2_000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [job?.id, job?.status]);

  const upload = async (file: File) => {
    try {
      const res = await api.POST('/api/import/clients', {
        params: { query: { fileName: file.name } },
        body: file as unknown as string,
        bodySerializer: (b: unknown) => b as BodyInit,
        headers: { 'content-type': 'application/octet-stream' },
      });
      setJob(ok(res));
    } catch (err) {
      fail(err);
    }
  };
  const check = async () => job && setJob(ok(await api.POST('/api/import/jobs/{id}/check', { params: { path: { id: job.id } }, body: { mapping } })));
  const run = async () => job && setJob(ok(await api.POST('/api/import/jobs/{id}/run', { params: { path: { id: job.id } }, body: { mapping } })));
  const cancel = async () => job && setJob(ok(await api.POST('/api/import/jobs/{id}/cancel', { params: { path: { id: job.id } } })));
  const r = job?.report;
  return (
    <section>
      <h2>{t('import.title')}</h2>
      <div class="filters">
        <input type="file" name="importFile" accept=".csv,.xlsx,.txt" onChange={(e) => e.currentTarget.files?.[0] && void upload(e.currentTarget.files[0])} />
        <button onClick={() => void download('csv')}>{t('import.exportCsv')}</button>
        <button onClick={() => void download('xlsx')}>{t('import.exportXlsx')}</button>
      </div>
      {job && (
        <div data-testid="import-job">
          <p>
            {job.fileName} · <strong data-testid="import-status" data-status={job.status}>{codeText('importStatus', job.status)}</strong>
            {job.progress && ` · ${fmtNumber(job.progress.rowsDone)} / ${fmtNumber(job.progress.rowsTotal)}`}
          </p>
          {r && (
            <p data-testid="import-report">
              {t('import.report', { read: r.rowsRead, create: r.clientsToCreate, update: r.clientsToUpdate, rejected: r.rowsRejected, badPhones: r.badPhones.total })}
            </p>
          )}
          <table>
            <tbody>
              {mapping.map((m, i) => (
                <tr key={m.index}>
                  <td>{m.header}</td>
                  <td>
                    <select name={`map-${m.index}`} value={m.field ?? ''} onChange={(e) => setMapping(mapping.map((x, j) => (j === i ? { ...x, field: (e.currentTarget.value || null) as Mapping[number]['field'] } : x)))}>
                      <option value="">—</option>
                      {FIELDS.map((f) => <option key={f} value={f}>{f}</option>)}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {job.status === 'checked' && <button onClick={() => void check().catch(fail)}>{t('import.check')}</button>}
          {job.status === 'checked' && <button onClick={() => void run().catch(fail)}>{t('import.run')}</button>}
          {['queued', 'running'].includes(job.status) && <button onClick={() => void cancel().catch(fail)}>{t('import.cancel')}</button>}
          {job.counts && <p>{t('import.counts', { created: job.counts.created, updated: job.counts.updated, rejected: job.counts.rejected })}</p>}
        </div>
      )}
      <table data-testid="import-jobs">
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id}>
              <td class="muted">{fmtDateTime(j.createdAt)}</td>
              <td><button class="link" onClick={() => setJob(j)}>{j.fileName}</button></td>
              <td>{codeText('importStatus', j.status)}</td>
              <td>{j.counts && t('import.counts', { created: j.counts.created, updated: j.counts.updated, rejected: j.counts.rejected })}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The export is a file behind the bearer token: fetched, then handed to the browser as a download. */
async function download(format: 'csv' | 'xlsx') {
  const res = await fetch(`/api/export/clients?format=${format}`, { headers: { authorization: `Bearer ${session.value?.token ?? ''}` } });
  if (!res.ok) return fail(new Error(`HTTP ${res.status}`));
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await res.blob());
  a.download = `clients.${format}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
