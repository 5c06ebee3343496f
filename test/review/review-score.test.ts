import { describe, expect, it } from 'vitest';
import { criteriaProblem, scoreAnswers, type Criterion } from '../../src/review/review-score.js';

const card: Criterion[] = [
  { key: 'greeting', label: 'Greeting', weight: 1, kind: 'yes_no' },
  { key: 'needs', label: 'Needs', weight: 3, kind: 'scale', max: 5 },
  { key: 'price', label: 'Price', weight: 2, kind: 'yes_no' },
];

describe('scoreAnswers', () => {
  it('weights each criterion by its share of the points', () => {
    // (1·1 + 3·3/5 + 2·0) / 6 = 2.8 / 6 = 46.67 %
    expect(scoreAnswers(card, { greeting: true, needs: 3, price: false })).toEqual({ total: 46.67 });
    expect(scoreAnswers(card, { greeting: true, needs: 5, price: true })).toEqual({ total: 100 });
    expect(scoreAnswers(card, { greeting: false, needs: 0, price: false })).toEqual({ total: 0 });
  });

  it('leaves a criterion that does not apply (null) out of the weights', () => {
    // (1·1 + 3·4/5) / 4 = 3.4 / 4 = 85 %
    expect(scoreAnswers(card, { greeting: true, needs: 4, price: null })).toEqual({ total: 85 });
    expect(scoreAnswers(card, { greeting: null, needs: null, price: null })).toEqual({ error: expect.stringContaining('at least one') });
  });

  it('names the answer that is wrong', () => {
    expect(scoreAnswers(card, { greeting: true, needs: 6, price: true })).toEqual({ error: expect.stringContaining('answers.needs') });
    expect(scoreAnswers(card, { greeting: 1, needs: 2, price: true })).toEqual({ error: expect.stringContaining('answers.greeting') });
    expect(scoreAnswers(card, { greeting: true, needs: 2 })).toEqual({ error: expect.stringContaining('answers.price: missing') });
    expect(scoreAnswers(card, { greeting: true, needs: 2, price: true, extra: true })).toEqual({ error: expect.stringContaining('answers.extra') });
  });
});

describe('criteriaProblem', () => {
  it('refuses duplicate keys and a scale without max', () => {
    expect(criteriaProblem(card)).toBeNull();
    expect(criteriaProblem([...card, { key: 'greeting', label: 'again', weight: 1, kind: 'yes_no' }])).toContain('twice');
    expect(criteriaProblem([{ key: 'x', label: 'x', weight: 1, kind: 'scale' }])).toContain('max');
    expect(criteriaProblem([])).toContain('at least one');
  });
});
