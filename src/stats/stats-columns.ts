import { DEAL_STATUS_LABELS, DEAL_STATUSES } from '../deals/deal-statuses.js';
import type { Figures } from './stats-figures.js';
import type { TimelineEvent } from './timeline.js';
import type { Column } from './xlsx.js';

// What the exported tables show, column by column, with headers in Russian and English.

const figureColumns: Array<Column<Figures>> = [
  { ru: 'Входящие', en: 'Inbound', value: (f) => f.inbound },
  { ru: 'Исходящие', en: 'Outbound', value: (f) => f.outbound },
  { ru: 'Принятые', en: 'Answered', value: (f) => f.answered },
  { ru: 'Пропущенные', en: 'Missed', value: (f) => f.missed },
  { ru: 'Пропущенные без перезвона', en: 'Missed, not called back', value: (f) => f.missedNotCalledBack },
  { ru: 'Перезвонили вовремя', en: 'Called back on time', value: (f) => f.callbacksOnTime },
  { ru: 'Доля принятых', en: 'Answer rate', value: (f) => f.answerRate, format: '0.0%' },
  { ru: 'Ожидание ответа, с', en: 'Time to answer, s', value: (f) => f.avgAnswerSeconds },
  { ru: 'Разговор всего, с', en: 'Talk total, s', value: (f) => f.talkSecondsTotal },
  { ru: 'Разговор в среднем, с', en: 'Talk average, s', value: (f) => f.talkSecondsAvg },
  { ru: 'Создано заявок', en: 'Deals created', value: (f) => f.dealsCreated },
  ...DEAL_STATUSES.map((s): Column<Figures> => ({ ru: `Сейчас: ${DEAL_STATUS_LABELS[s].ru}`, en: `Now: ${DEAL_STATUS_LABELS[s].en}`, value: (f) => f.dealsByStatus[s] })),
  { ru: 'Новая → Договор подписан', en: 'New → Contract signed', value: (f) => f.conversions.find((c) => c.from === 'new' && c.to === 'contract_signed')?.rate ?? null, format: '0.0%' },
  { ru: 'Оплачено заявок', en: 'Deals paid', value: (f) => f.paidDeals },
  { ru: 'Сумма оплат', en: 'Amount paid', value: (f) => f.paidAmount, format: '#,##0.00' },
  { ru: 'Оценок', en: 'Reviews', value: (f) => f.reviews },
  { ru: 'Средняя оценка', en: 'Average score', value: (f) => f.avgScore },
];

/** The figure columns after some leading columns of the row. */
export function withFigures<T extends { figures: Figures }>(lead: Array<Column<T>>): Array<Column<T>> {
  return [...lead, ...figureColumns.map((c) => ({ ...c, value: (row: T) => c.value(row.figures) }))];
}

export const managerColumns = withFigures<{ name: string; period: string | null; figures: Figures }>([
  { ru: 'Сотрудник', en: 'Person', value: (r) => r.name },
  { ru: 'Период с', en: 'Period from', value: (r) => r.period ?? '' },
]);

export const departmentColumns = withFigures<{ name: string; period: string | null; people: number; figures: Figures }>([
  { ru: 'Отдел', en: 'Department', value: (r) => r.name },
  { ru: 'Период с', en: 'Period from', value: (r) => r.period ?? '' },
  { ru: 'Сотрудников', en: 'People', value: (r) => r.people },
]);

export const timelineColumns: Array<Column<TimelineEvent>> = [
  { ru: 'Когда (UTC)', en: 'At (UTC)', value: (e) => e.at },
  { ru: 'Что', en: 'Kind', value: (e) => e.kind },
  { ru: 'Звонок', en: 'Call', value: (e) => e.callId },
  { ru: 'Клиент', en: 'Client', value: (e) => e.clientId },
  { ru: 'Заявка', en: 'Deal', value: (e) => e.dealId },
  { ru: 'Подробности', en: 'Details', value: (e) => JSON.stringify(e.details) },
];
