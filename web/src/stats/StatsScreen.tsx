import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { fmtNumber, fmtSeconds, lang, t } from '../i18n/i18n.js';
import { toast } from '../ui/toast.js';

// `format=xlsx` answers a file; the JSON form is the one read here.
type Stats = Exclude<Answer<'/api/stats/managers', 'get'>, string>;
type Row = Stats['rows'][number];
// The reader's own calendar day (the figures' days are the department's, and a sales floor's
// browsers are in its zone): toISOString's UTC day was yesterday for Moscow's first three hours.
const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** Figures per manager: a chart of answered calls by day (uPlot, loaded on first use) and the comparison table. */
export default function StatsScreen() {
  const [from, setFrom] = useState(day(new Date(Date.now() - 13 * 86_400_000)));
  const [to, setTo] = useState(day(new Date()));
  const [total, setTotal] = useState<Row[]>([]);
  const [daily, setDaily] = useState<Row[]>([]);
  useEffect(() => {
    const fail = (e: Error) => toast(t('common.error', { message: e.message }), 'error');
    api.GET('/api/stats/managers', { params: { query: { from, to, groupBy: 'total' } } }).then(ok).then((r) => setTotal((r as Stats).rows), fail);
    api.GET('/api/stats/managers', { params: { query: { from, to, groupBy: 'day' } } }).then(ok).then((r) => setDaily((r as Stats).rows), fail);
  }, [from, to]);
  return (
    <section>
      <h2>{t('stats.title')}</h2>
      <div class="filters">
        <input type="date" name="from" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        <input type="date" name="to" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
      </div>
      <Chart rows={daily} />
      <table data-testid="stats">
        <thead>
          <tr>
            <th /><th>{t('stats.inbound')}</th><th>{t('stats.answered')}</th><th>{t('stats.missed')}</th><th>{t('stats.outbound')}</th><th>{t('stats.talk')}</th><th>{t('stats.deals')}</th><th>{t('stats.score')}</th>
          </tr>
        </thead>
        <tbody>
          {total.map((r) => (
            <tr key={r.userId}>
              <td>{r.name}</td>
              <td>{fmtNumber(r.figures.inbound)}</td>
              <td>{fmtNumber(r.figures.answered)}</td>
              <td>{fmtNumber(r.figures.missed)}</td>
              <td>{fmtNumber(r.figures.outbound)}</td>
              <td>{fmtSeconds(r.figures.talkSecondsTotal)}</td>
              <td>{fmtNumber(r.figures.dealsCreated)}</td>
              <td>{r.figures.avgScore === null ? '' : fmtNumber(r.figures.avgScore)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const DAY_S = 86_400;
const COLORS = ['#1f6feb', '#d73a49', '#28a745', '#f66a0a', '#6f42c1', '#0aa3a3'];

function Chart({ rows }: { rows: Row[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: { destroy(): void } | null = null;
    let gone = false;
    if (rows.length === 0) return;
    Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (gone || !box.current) return;
      const days = [...new Set(rows.map((r) => String(r.period)))].sort();
      const people = [...new Map(rows.map((r) => [r.userId, r.name])).entries()];
      const x = days.map((d) => Date.parse(`${d}T00:00:00`) / 1000);
      const series = people.map(([id]) => days.map((d) => rows.find((r) => r.userId === id && String(r.period) === d)?.figures.answered ?? 0));
      // The points are days: the axis and the legend name days in the reader's language ("28 нояб."),
      // ticks on whole days only, instead of uPlot's English hours ("12am", "11/28/26").
      const day = new Intl.DateTimeFormat(lang.value, { day: 'numeric', month: 'short' });
      const dayOf = (seconds: number) => day.format(new Date(seconds * 1000));
      plot = new UPlot(
        {
          width: Math.min(900, box.current.clientWidth || 900),
          height: 240,
          series: [
            { label: t('stats.day'), value: (_u: unknown, v: number | null) => (v == null ? t('common.noData') : dayOf(v)) },
            ...people.map(([, name], i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 2, value: (_u: unknown, v: number | null) => fmtNumber(v) })),
          ],
          axes: [
            { space: 60, incrs: [DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S, 28 * DAY_S], values: (_u: unknown, splits: number[]) => splits.map(dayOf) },
            { label: t('stats.answered') },
          ],
        },
        [x, ...series],
        box.current,
      );
    });
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [rows, lang.value]);
  return <div ref={box} class="chart" data-testid="stats-chart" />;
}
